/* Forge Custom UI shell: asks our remote for the macro's panel through @forge/bridge and shows it. */
import { invokeRemote, view } from "@forge/bridge";
import { wirePanel } from "./panel.js";

const root = document.getElementById("c4c-root");

function resize() {
  // The host sizes Custom UI frames to their content; this nudges hosts that wait to be told.
  try {
    const bridge = globalThis.__bridge;
    if (bridge && bridge.callBridge) bridge.callBridge("resize", { height: document.documentElement.scrollHeight });
  } catch (error) { /* the host resizes on its own */ }
}

async function start() {
  const context = await view.getContext();
  const macroKey = context.moduleKey;
  root.dataset.macro = macroKey;
  const content = context.extension && context.extension.content;
  root.dataset.page = content && content.id ? String(content.id) : "";
  const transport = {
    load: (refresh) => invokeRemote({ path: `/forge/macro/${macroKey}`, method: "POST", body: { refresh: !!refresh } }),
    sendDecision: (payload) => invokeRemote({ path: "/forge/actions/decision", method: "POST", body: payload }),
    renewActionToken: async () => null,  // Forge mints a fresh invocation token for every call
    resize,
  };
  const panel = wirePanel(root, transport);
  if (!(await panel.load(false))) {
    root.textContent = "Consonance could not be reached just now. Reload the page to try again.";
  }
}

start().catch(() => {
  root.textContent = "This panel could not start. Reload the page to try again.";
});
