/* The admin page's behaviour, shared by Forge and Connect: tabs, pickers, Test connection, Save, Retry,
   Sync now and Create pages for existing titles.
   The server renders every view; this only collects the form, calls the transport and shows answers.
   transport: { view(name), save(form), testConnection(form), search(kind, q, space), retry(id),
   onboarding(action, form), regenerate(cadence), resize() } each resolving to { status, body }. */

const DEBOUNCE_MS = 250;
const PROGRESS_MS = 2000;

function text(element, value) {
  if (element) element.textContent = value;
}

function setStatus(root, message, kind) {
  const status = root.querySelector(".c4c-form-status");
  if (!status) return;
  text(status, message || "");
  status.classList.remove("c4c-form-status--error", "c4c-form-status--ok");
  if (kind) status.classList.add(`c4c-form-status--${kind}`);
}

function pickerValue(picker) {
  const values = [...picker.querySelectorAll(".c4c-picker-chosen .c4c-chip")].map((chip) => chip.dataset.value);
  return picker.dataset.multiple === "true" ? values : (values[0] || "");
}

/** The form as the server's settings names expect (plus the API key only when one was typed). */
export function collectForm(form) {
  const data = {};
  for (const input of form.querySelectorAll("[data-name]")) {
    if (input.closest(".c4c-rights-row") || input.classList.contains("c4c-picker")) continue;
    const name = input.dataset.name;
    if (input.type === "radio") {
      if (input.checked) data[name] = input.value;
    } else if (input.dataset.list === "true") {
      if (!Array.isArray(data[name])) data[name] = [];
      if (input.checked) data[name].push(input.value);
    } else if (input.dataset.split === "true") {
      data[name] = input.value.split(",").map((s) => s.trim()).filter(Boolean);
    } else if (name === "consonance_api_key") {
      if (input.value.trim()) data[name] = input.value.trim();
    } else {
      data[name] = input.value;
    }
  }
  for (const picker of form.querySelectorAll(".c4c-picker")) {
    if (picker.closest(".c4c-rights-row")) continue;
    data[picker.dataset.name] = pickerValue(picker);
  }
  data.rights_mappings = [...form.querySelectorAll(".c4c-rights-rows .c4c-rights-row")].map((row) => {
    const mapping = {};
    for (const input of row.querySelectorAll("[data-key]")) mapping[input.dataset.key] = input.value.trim();
    const picker = row.querySelector(".c4c-picker");
    mapping.page_id = picker ? pickerValue(picker) : "";
    return mapping;
  });
  return data;
}

function showErrors(form, errors, message) {
  for (const slot of form.querySelectorAll("[data-error-for]")) text(slot, "");
  const summary = form.querySelector(".c4c-form-summary");
  const unplaced = [];
  for (const [field, problem] of Object.entries(errors || {})) {
    let slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) slot = form.querySelector(`[data-error-for="${CSS.escape(field.split(".")[0])}"]`);
    if (slot) text(slot, problem); else unplaced.push(problem);
  }
  if (summary) {
    const count = Object.keys(errors || {}).length;
    summary.hidden = !count;
    text(summary, count ? `${message || "Nothing was saved."} ${unplaced.join(" ")}`.trim() : "");
  }
  const first = form.querySelector("[data-error-for]:not(:empty)");
  if (first && first.scrollIntoView) first.scrollIntoView({ block: "center" });
}

function showConnection(form, body) {
  const box = form.querySelector(".c4c-connection-result");
  if (!box) return;
  box.hidden = false;
  box.replaceChildren();
  box.className = `c4c-connection-result ${body && body.ok ? "is-ok" : "is-failed"}`;
  const headline = document.createElement("p");
  headline.className = "c4c-connection-headline";
  text(headline, (body && body.headline) || "The test could not run. Try again.");
  box.append(headline);
  const list = document.createElement("ul");
  for (const check of (body && body.checks) || []) {
    const item = document.createElement("li");
    item.className = check.ok ? "is-ok" : "is-failed";
    text(item, `${check.ok ? "✓" : "✗"} ${check.name}: ${check.detail}`);
    list.append(item);
  }
  box.append(list);
  // The capability table comes rendered (and escaped) by the server's template.
  if (body && typeof body.capabilitiesHtml === "string" && body.capabilitiesHtml.trim()) {
    const table = document.createElement("div");
    table.className = "c4c-capability-result";
    table.innerHTML = body.capabilitiesHtml;
    box.append(table);
  }
}

function addChip(picker, value, label) {
  const chosen = picker.querySelector(".c4c-picker-chosen");
  if (picker.dataset.multiple !== "true") chosen.replaceChildren();
  if ([...chosen.children].some((chip) => chip.dataset.value === value)) return;
  const chip = document.createElement("li");
  chip.className = "c4c-chip";
  chip.dataset.value = value;
  const span = document.createElement("span");
  text(span, label);
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "c4c-chip-remove";
  remove.setAttribute("aria-label", `Remove ${label}`);
  text(remove, "×");
  chip.append(span, remove);
  chosen.append(chip);
}

function onboardingFilters(form) {
  const filters = {};
  for (const input of form.querySelectorAll("[data-filter]")) filters[input.dataset.filter] = input.value.trim();
  return filters;
}

export function wireAdmin(root, transport) {
  let timer = null;
  let progressTimer = null;

  async function followProgress() {
    clearTimeout(progressTimer);
    const line = root.querySelector(".c4c-onboarding-progress");
    if (!line) return;
    const answer = await transport.onboarding("progress", {});
    const body = (answer && answer.body) || {};
    const current = root.querySelector(".c4c-onboarding-progress");
    if (!current) return;  // the admin moved to another tab
    if (body.message) text(current, body.message);
    current.dataset.done = body.done ? "true" : "false";
    if (!body.done) progressTimer = setTimeout(followProgress, PROGRESS_MS);
  }

  function show(html) {
    root.innerHTML = html;  // server-rendered, every value escaped by its templates
    transport.resize();
  }

  async function load(name) {
    const answer = await transport.view(name);
    if (answer && answer.body && typeof answer.body.html === "string") {
      show(answer.body.html);
      const line = root.querySelector(".c4c-onboarding-progress");
      if (line && line.dataset.done !== "true") followProgress();
      return true;
    }
    root.textContent = (answer && answer.body && answer.body.message) || "The settings could not be loaded. Reload the page.";
    return false;
  }

  async function search(picker, query) {
    const results = picker.querySelector(".c4c-picker-results");
    const form = picker.closest("form");
    let space = "";
    if (picker.dataset.spaceField && form) {
      const spacePicker = form.querySelector(`.c4c-picker[data-name="${picker.dataset.spaceField}"]`);
      space = spacePicker ? pickerValue(spacePicker) : "";
    }
    const kind = picker.dataset.kind === "space" ? "spaces" : "pages";
    const answer = await transport.search(kind, query, space);
    const input = picker.querySelector(".c4c-picker-search");
    if (!input || input.value !== query || (document.activeElement !== input && results.hidden)) return;  // a stale answer: the admin typed on or already chose
    results.replaceChildren();
    const found = (answer && answer.body && answer.body.results) || [];
    if (!found.length) {
      const empty = document.createElement("li");
      empty.className = "c4c-picker-empty";
      text(empty, (answer && answer.body && answer.body.message) || "Nothing matches; try other words.");
      results.append(empty);
    }
    for (const item of found) {
      const option = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "c4c-picker-option";
      button.dataset.value = kind === "spaces" ? item.key : item.id;
      button.dataset.label = kind === "spaces" ? `${item.name} (${item.key})` : item.title;
      text(button, kind === "spaces" ? `${item.name} (${item.key})` : `${item.title}${item.space ? ` — ${item.space}` : ""}`);
      option.append(button);
      results.append(option);
    }
    results.hidden = false;
    transport.resize();
  }

  root.addEventListener("input", (event) => {
    const input = event.target.closest(".c4c-picker-search");
    if (!input) return;
    clearTimeout(timer);
    timer = setTimeout(() => search(input.closest(".c4c-picker"), input.value), DEBOUNCE_MS);
  });

  root.addEventListener("focusin", (event) => {
    const input = event.target.closest(".c4c-picker-search");
    if (input && !input.value) search(input.closest(".c4c-picker"), "");
  });

  root.addEventListener("click", async (event) => {
    const target = event.target;
    const tab = target.closest("[data-tab]");
    if (tab) { await load(tab.dataset.tab); return; }
    const option = target.closest(".c4c-picker-option");
    if (option) {
      const picker = option.closest(".c4c-picker");
      clearTimeout(timer);  // a search still waiting to run must not reopen the list
      addChip(picker, option.dataset.value, option.dataset.label);
      picker.querySelector(".c4c-picker-results").hidden = true;
      picker.querySelector(".c4c-picker-search").value = "";
      transport.resize();
      return;
    }
    const remove = target.closest(".c4c-chip-remove");
    if (remove) { remove.closest(".c4c-chip").remove(); transport.resize(); return; }
    const action = target.closest("[data-action]");
    if (!action) return;
    const form = action.closest("form");
    switch (action.dataset.action) {
      case "test-connection": {
        action.disabled = true;
        text(action, "Testing…");
        const answer = await transport.testConnection(collectForm(form));
        action.disabled = false;
        text(action, "Test connection");
        const body = (answer && answer.body) || {};
        showErrors(form, body.errors || {}, body.headline);
        showConnection(form, body);
        transport.resize();
        break;
      }
      case "add-rights-row": {
        const template = form.querySelector("#c4c-rights-template");
        const rows = form.querySelector(".c4c-rights-rows");
        const index = rows.children.length;
        rows.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__index__", String(index)));
        transport.resize();
        break;
      }
      case "remove-rights-row":
        action.closest(".c4c-rights-row").remove();
        transport.resize();
        break;
      case "retry": {
        action.disabled = true;
        const answer = await transport.retry(action.dataset.entry);
        const body = (answer && answer.body) || {};
        if (typeof body.html === "string") show(body.html);
        setStatus(root, body.message || "Retry could not be queued; reload the page.", answer && answer.status === 200 ? "ok" : "error");
        break;
      }
      case "regenerate": {
        action.disabled = true;
        const answer = await transport.regenerate(action.dataset.cadence);
        const body = (answer && answer.body) || {};
        if (typeof body.html === "string") show(body.html);
        setStatus(root, body.message || "Regenerate could not be queued; reload the page.", answer && answer.status === 200 ? "ok" : "error");
        break;
      }
      case "sync-now": {
        action.disabled = true;
        const answer = await transport.onboarding("sync-now", {});
        action.disabled = false;
        const body = (answer && answer.body) || {};
        setStatus(root, body.message || "The sync could not start; reload the page.", body.ok ? "ok" : "error");
        break;
      }
      case "count-titles": {
        const count = form.querySelector(".c4c-onboarding-count");
        const create = form.querySelector('[data-action="create-pages"]');
        action.disabled = true;
        text(count, "Counting…");
        const answer = await transport.onboarding("count", onboardingFilters(form));
        action.disabled = false;
        const body = (answer && answer.body) || {};
        text(count, body.message || "The titles could not be counted; try again.");
        create.disabled = !(body.ok && body.count > 0);
        create.dataset.count = body.ok ? String(body.now) : "";
        transport.resize();
        break;
      }
      case "create-pages": {
        action.disabled = true;
        const answer = await transport.onboarding("create-pages", onboardingFilters(form));
        const body = (answer && answer.body) || {};
        text(form.querySelector(".c4c-onboarding-count"), body.ok ? `Queued ${body.queued}.` : (body.message || "Nothing was queued; try again."));
        if (body.ok) followProgress();
        transport.resize();
        break;
      }
      default:
        break;
    }
  });

  root.addEventListener("change", (event) => {
    const filter = event.target.closest("[data-filter]");
    if (!filter) return;
    const create = filter.closest("form").querySelector('[data-action="create-pages"]');
    if (create) create.disabled = true;  // count again before creating: the count must match what is made
  });

  root.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector('[data-action="save"]');
    button.disabled = true;
    setStatus(form, "Saving…");
    const answer = await transport.save(collectForm(form));
    button.disabled = false;
    const body = (answer && answer.body) || {};
    if (answer && answer.status === 200 && body.ok) {
      if (typeof body.html === "string") show(body.html);
      setStatus(root, body.message || "Saved.", "ok");
      return;
    }
    showErrors(form, body.errors || {}, body.message);
    if (body.connection) showConnection(form, { ...body.connection, headline: body.connection.headline });
    setStatus(form, body.message || "Nothing was saved. Try again.", "error");
    transport.resize();
  });

  return { load, show };
}
