/* Connect iframe script: the panel is already in the page; this wires Refresh and the decision
   form with a fresh context token from AP for each call, and keeps the iframe sized to its content. */
import { wirePanel } from "./panel.js";

const root = document.getElementById("c4c-root");

function contextToken() {
  if (!window.AP || !window.AP.context) return Promise.reject(new Error("AP is not available"));
  return Promise.resolve(window.AP.context.getToken());
}

async function call(url, options) {
  const token = await contextToken();
  const response = await fetch(url, {
    ...options,
    headers: { ...(options && options.headers), Authorization: `JWT ${token}`, Accept: "application/json" },
    credentials: "omit",
  });
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  return { status: response.status, body };
}

function resize() {
  if (window.AP && window.AP.resize) window.AP.resize();
}

if (root) {
  const transport = {
    load(refresh) {
      const query = new URLSearchParams({ title: root.dataset.title || "", pageId: root.dataset.page || "" });
      if (refresh) query.set("refresh", "1");
      return call(`${root.dataset.panelUrl}?${query}`, { method: "GET" });
    },
    sendDecision(payload) {
      return call(root.dataset.actionUrl, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
      });
    },
    async renewActionToken(workId) {
      const query = new URLSearchParams({ workId, pageId: root.dataset.page || "" });
      const answer = await call(`${root.dataset.tokenUrl}?${query}`, { method: "GET" });
      return answer.status === 200 && answer.body ? answer.body.actionToken : null;
    },
    resize,
  };
  wirePanel(root, transport);
  resize();
}
