/* The viewer page's side of macro hosting: resizes iframes, answers Connect all.js requests
   (context token, context, navigation) and ticks tasks through the emulator. */
(function () {
  "use strict";
  function frameOf(source) {
    var frames = document.querySelectorAll("iframe.app-macro");
    for (var i = 0; i < frames.length; i++) { if (frames[i].contentWindow === source) { return frames[i]; } }
    return null;
  }
  window.addEventListener("message", function (event) {
    var msg = event.data || {}, iframe = frameOf(event.source);
    if (!iframe || (msg.emulator !== "connect" && msg.emulator !== "forge")) { return; }
    if (msg.type === "resize") {
      var h = msg.height || (msg.data && msg.data.height);
      if (h === "parent") { iframe.style.height = "100%"; }
      else if (h) { iframe.style.height = (parseInt(h, 10) + 4) + "px"; }
      return;
    }
    if (msg.type === "navigate") {
      var ctx = (msg.data && msg.data.context) || {};
      if (ctx.url) { window.location.href = ctx.url; }
      else if (ctx.contentId) { window.location.href = "/wiki/pages/viewpage.action?pageId=" + encodeURIComponent(ctx.contentId); }
      return;
    }
    if (msg.type === "reload") { window.location.reload(); return; }
    var reply = function (result, error) {
      event.source.postMessage({emulator: "connect-reply", id: msg.id, result: result, error: error}, "*");
    };
    if (msg.type === "getToken" || msg.type === "getContext") {
      fetch(iframe.dataset.tokenUrl, {method: "POST"}).then(function (r) { return r.json(); })
        .then(function (d) { reply(msg.type === "getToken" ? d.token : d.context); })
        .catch(function (e) { reply(null, String(e)); });
    }
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("task-checkbox")) { return; }
    box.disabled = true;
    fetch(box.dataset.toggleUrl + encodeURIComponent(box.dataset.taskLocalId), {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({status: box.checked ? "complete" : "incomplete"})
    }).then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (d) { var v = document.getElementById("page-version"); if (v) { v.textContent = d.version; } })
      .catch(function () { box.checked = !box.checked; })
      .finally(function () { box.disabled = false; });
  });
})();
