/* A minimal Connect all.js written for the emulator: AP.resize, AP.sizeToParent,
   AP.context.getToken/getContext, AP.navigator.go/reload, and the macro editor's
   AP.confluence.saveMacro/closeMacroEditor/getMacroData. It talks to the host page
   (the emulator's viewer) with postMessage, as the real one does. */
(function () {
  "use strict";
  var pending = {}, counter = 0;
  function ask(type, data) {
    return new Promise(function (resolve, reject) {
      var id = "ap-" + (++counter);
      pending[id] = {resolve: resolve, reject: reject};
      window.parent.postMessage({emulator: "connect", type: type, id: id, data: data || null}, "*");
    });
  }
  window.addEventListener("message", function (event) {
    var msg = event.data || {};
    if (msg.emulator !== "connect-reply" || !pending[msg.id]) { return; }
    var p = pending[msg.id]; delete pending[msg.id];
    if (msg.error) { p.reject(new Error(msg.error)); } else { p.resolve(msg.result); }
  });
  function withCallback(promise, callback) {
    if (typeof callback === "function") { promise.then(callback); }
    return promise;
  }
  function height() { return document.documentElement.scrollHeight || document.body.scrollHeight; }
  var AP = {
    resize: function (width, h) {
      window.parent.postMessage({emulator: "connect", type: "resize", data: {width: width, height: h || height()}}, "*");
    },
    sizeToParent: function () {
      window.parent.postMessage({emulator: "connect", type: "resize", data: {height: "parent"}}, "*");
    },
    context: {
      getToken: function (callback) { return withCallback(ask("getToken"), callback); },
      getContext: function (callback) { return withCallback(ask("getContext"), callback); }
    },
    confluence: {
      /* The macro editor's calls: save the macro's parameters into the page, close the editor. */
      saveMacro: function (parameters, body) {
        window.parent.postMessage({emulator: "connect", type: "saveMacro", data: {parameters: parameters || {}, body: body}}, "*");
      },
      closeMacroEditor: function () { window.parent.postMessage({emulator: "connect", type: "closeMacroEditor"}, "*"); },
      getMacroData: function (callback) { return withCallback(ask("getMacroData"), callback); }
    },
    navigator: {
      go: function (target, context) { window.parent.postMessage({emulator: "connect", type: "navigate", data: {target: target, context: context || {}}}, "*"); },
      reload: function () { window.parent.postMessage({emulator: "connect", type: "reload"}, "*"); }
    }
  };
  window.AP = AP;
  window.addEventListener("load", function () { AP.resize(); });
  if (window.ResizeObserver) {
    window.addEventListener("DOMContentLoaded", function () {
      new ResizeObserver(function () { AP.resize(); }).observe(document.documentElement);
    });
  }
})();
