/* The viewer page's side of macro hosting: resizes iframes, answers Connect all.js requests
   (context token, context, navigation, the macro editor's saveMacro/closeMacroEditor/getMacroData),
   opens a macro's configuration in a dialog (Configure) and ticks tasks through the emulator. */
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
    if (msg.type === "submitted") { closeConfig(iframe, true); return; }
    if (msg.type === "close") { closeConfig(iframe, false); return; }
    if (msg.type === "saveMacro") { saveMacro(iframe, (msg.data && msg.data.parameters) || {}); return; }
    if (msg.type === "closeMacroEditor") {
      Promise.resolve(iframe.saving).then(function (saved) { closeConfig(iframe, !!saved); });
      return;
    }
    var reply = function (result, error) {
      event.source.postMessage({emulator: "connect-reply", id: msg.id, result: result, error: error}, "*");
    };
    if (msg.type === "getMacroData") { reply(JSON.parse(iframe.dataset.macroData || "{}")); return; }
    if (msg.type === "getToken" || msg.type === "getContext") {
      fetch(iframe.dataset.tokenUrl, {method: "POST"}).then(function (r) { return r.json(); })
        .then(function (d) { reply(msg.type === "getToken" ? d.token : d.context); })
        .catch(function (e) { reply(null, String(e)); });
    }
  });
  /* Configure: the macro's config resource (Forge) or editor (Connect) in a modal dialog. */
  function closeConfig(iframe, changed) {
    var dialog = iframe.closest("dialog");
    if (!dialog) { return; }
    dialog.close();
    dialog.remove();
    if (changed) { window.location.reload(); }
  }
  function saveMacro(iframe, parameters) {
    iframe.saving = fetch(iframe.dataset.saveUrl, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({parameters: parameters})
    }).then(function (r) { return r.ok; }).catch(function () { return false; });
  }
  function openConfig(button) {
    button.disabled = true;
    fetch(button.dataset.configureUrl, {method: "POST"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (d) {
        var dialog = document.createElement("dialog");
        dialog.className = "macro-config-dialog";
        dialog.setAttribute("aria-label", d.title);
        var heading = document.createElement("h2");
        heading.textContent = d.title;
        var iframe = document.createElement("iframe");
        iframe.className = "app-macro app-macro-config " + d.transport + "-macro-config";
        iframe.title = d.title;
        iframe.dataset.frameId = d.frameId;
        iframe.dataset.macroKey = button.dataset.macroKey;
        if (d.tokenUrl) { iframe.dataset.tokenUrl = d.tokenUrl; }
        if (d.saveUrl) { iframe.dataset.saveUrl = d.saveUrl; }
        iframe.dataset.macroData = JSON.stringify(d.macroData || {});
        if (d.width) { dialog.style.width = d.width; }
        if (d.height) { iframe.style.height = d.height; }
        iframe.src = d.src;
        dialog.appendChild(heading);
        dialog.appendChild(iframe);
        dialog.addEventListener("close", function () { dialog.remove(); });
        document.body.appendChild(dialog);
        dialog.showModal();
      })
      .catch(function (e) { window.alert("Could not open the macro's configuration: " + e); })
      .finally(function () { button.disabled = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target;
    if (button.classList && button.classList.contains("macro-configure")) { openConfig(button); }
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
