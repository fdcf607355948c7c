/* Forge macro configuration (Custom UI): searches through our remote with invokeRemote and saves the
   choice as the macro's `title` parameter with view.submit; the current setting comes from the context. */
import { invokeRemote, view } from "@forge/bridge";
import { wirePicker } from "./picker.js";

const root = document.getElementById("c4c-picker");

async function start() {
  const context = await view.getContext();
  const config = (context.extension && context.extension.config) || {};
  wirePicker(root, {
    search: (query) => invokeRemote({ path: "/forge/titles/search", method: "POST", body: { query } }),
    choose: (titleRef) => view.submit({ config: { ...config, title: titleRef } }),
    cancel: () => view.close().catch(() => {}),
  }, typeof config.title === "string" ? config.title.trim() : "");
}

start().catch(() => {
  root.textContent = "The title picker could not start. Close this and try again.";
});
