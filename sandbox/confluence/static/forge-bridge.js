/* The emulator's Custom UI bridge: @forge/bridge looks for window.__bridge.callBridge.
   Calls go to the emulator (which calls the app's remote server-side with a fresh FIT). */
(function () {
  "use strict";
  var frame = window.__emulatorFrame || {};
  function local(method, payload) {
    if (method === "navigate" || method === "open") {
      var url = (payload && (payload.url || payload.target)) || payload;
      if (typeof url === "string") {
        if (method === "open") { window.open(url, "_blank"); } else { window.top.location.href = url; }
      }
      return Promise.resolve(true);
    }
    if (method === "getUrl") { return Promise.resolve((payload && payload.url) || frame.pageUrl); }
    if (method === "resize") { report(); return Promise.resolve(true); }
    if (method === "close") {
      if (frame.kind !== "macro-config") { return Promise.resolve(false); }
      window.parent.postMessage({emulator: "forge", type: "close", frameId: frame.frameId}, "*");
      return Promise.resolve(true);
    }
    return null;
  }
  /* view.submit in a macro's config view: the emulator saves the config into the page, then the
     host closes the config dialog and shows the new version. */
  function submitted(response) {
    return response.json().then(function (d) {
      if (!response.ok) { throw new Error((d && d.error) || ("HTTP " + response.status)); }
      if (d.result === false) { return false; }
      window.parent.postMessage({emulator: "forge", type: "submitted", frameId: frame.frameId, saved: d}, "*");
      return true;
    });
  }
  function callBridge(method, payload) {
    var handled = local(method, payload);
    if (handled) { return handled; }
    var sent = fetch(frame.bridgeUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({method: method, payload: payload === undefined ? null : payload})
    });
    if (method === "submit") { return sent.then(submitted); }
    return sent.then(function (r) { return r.json(); }).then(function (d) { return d.result; });
  }
  /* Like Forge, the host measures the content itself (so a frame shrinks when the content does):
     the body's own height, not the viewport-sized documentElement. */
  function contentHeight() {
    var body = document.body;
    if (!body) { return document.documentElement.scrollHeight; }
    var style = window.getComputedStyle(body);
    return Math.ceil(body.scrollHeight + parseFloat(style.marginTop || 0) + parseFloat(style.marginBottom || 0));
  }
  function report() {
    var h = contentHeight();
    window.parent.postMessage({emulator: "forge", type: "resize", frameId: frame.frameId, height: h}, "*");
  }
  window.__bridge = {callBridge: callBridge};
  if (window.ResizeObserver) {
    window.addEventListener("DOMContentLoaded", function () {
      new ResizeObserver(function () { report(); }).observe(document.body);
    });
  }
  window.addEventListener("load", function () { report(); });
})();
