/* Connect macro editor: searches /connect/titles/search with a fresh context token for each query and
   saves the choice with AP.confluence.saveMacro, then closes the editor. */
import { wirePicker } from "./picker.js";

const root = document.getElementById("c4c-picker");

async function search(query) {
  const token = await window.AP.context.getToken();
  const url = `${root.dataset.searchUrl}?q=${encodeURIComponent(query)}`;
  const response = await fetch(url, { headers: { Authorization: `JWT ${token}`, Accept: "application/json" } });
  let body = {};
  try { body = await response.json(); } catch (error) { body = {}; }
  return { status: response.status, body };
}

function choose(titleRef) {
  window.AP.confluence.saveMacro({ title: titleRef });
  window.AP.confluence.closeMacroEditor();
  return Promise.resolve();
}

function cancel() {
  window.AP.confluence.closeMacroEditor();
}

function start() {
  if (!window.AP || !window.AP.confluence) {
    root.textContent = "Open this from the macro's Edit button in Confluence.";
    return;
  }
  const picker = (current) => wirePicker(root, { search, choose, cancel }, (current || "").trim());
  if (typeof window.AP.confluence.getMacroData === "function") {
    window.AP.confluence.getMacroData((data) => picker((data && data.title) || root.dataset.current));
  } else {
    picker(root.dataset.current);
  }
}

start();
