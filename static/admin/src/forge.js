/* Forge Custom UI admin page: every call goes to our remote through @forge/bridge (fresh invocation token). */
import { invokeRemote } from "@forge/bridge";
import { wireAdmin } from "./admin.js";

const root = document.getElementById("c4c-admin");

function call(path, body) {
  return invokeRemote({ path, method: "POST", body: body || {} }).catch(() => null);
}

function resize() {
  try {
    const bridge = globalThis.__bridge;
    if (bridge && bridge.callBridge) bridge.callBridge("resize", { height: document.documentElement.scrollHeight });
  } catch (error) { /* the host sizes the frame itself */ }
}

const admin = wireAdmin(root, {
  view: (name) => call("/forge/admin", { view: name }),
  save: (form) => call("/forge/admin/settings", { form }),
  testConnection: (form) => call("/forge/admin/test-connection", { form }),
  search: (kind, q, space) => call(`/forge/admin/${kind}`, { q, space }),
  retry: (id) => call(`/forge/admin/outbox/${encodeURIComponent(id)}/retry`, {}),
  onboarding: (action, form) => call(`/forge/admin/onboarding/${action}`, { form }),
  resize,
});

admin.load("configuration").catch(() => {
  root.textContent = "The settings could not start. Reload the page to try again.";
});
