/* Connect configure page: reads with a fresh context token from AP; changes also carry the admin token
   the page was rendered with (bound to this site and user). */
import { wireAdmin } from "./admin.js";

const root = document.getElementById("c4c-admin");
const pageToken = new URLSearchParams(window.location.search).get("jwt");

function contextToken() {
  if (window.AP && window.AP.context && window.AP.context.getToken) return Promise.resolve(window.AP.context.getToken());
  return Promise.resolve(pageToken);  // opened outside Confluence's frame: the page-load token, while it lasts
}

async function call(path, options) {
  const token = await contextToken();
  const headers = { Authorization: `JWT ${token}`, Accept: "application/json", ...(options && options.headers) };
  try {
    const response = await fetch(path, { ...options, headers, credentials: "omit" });
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, body: { message: "The app did not answer. Check your connection and try again." } };
  }
}

function change(path, body) {
  return call(path, {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-Admin-Token": root.dataset.adminToken || "" },
  });
}

function resize() {
  if (window.AP && window.AP.resize) window.AP.resize();
}

if (root && root.dataset.adminToken) {
  const base = root.dataset.base;
  wireAdmin(root, {
    view: (name) => call(`${base}/view/${encodeURIComponent(name)}`, { method: "GET" }),
    save: (form) => change(`${base}/settings`, { form }),
    testConnection: (form) => change(`${base}/test-connection`, { form }),
    search: (kind, q, space) => call(`${base}/${kind}?${new URLSearchParams({ q, space })}`, { method: "GET" }),
    retry: (id) => change(`${base}/outbox/${encodeURIComponent(id)}/retry`, {}),
    onboarding: (action, form) => change(`${base}/onboarding/${action}`, { form }),
    resize,
  });
  resize();
}
