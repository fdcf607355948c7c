/* The macro's title picker, shared by both transports: a combobox with search-as-you-type
   (debounced; an answer to an older query is dropped), a listbox of titles and the
   "use the title this page belongs to" choice, driven by mouse, keyboard and screen reader. */

export const DEBOUNCE_MS = 250;
export const MIN_QUERY = 2;
const PAGE_SET_LABEL = "Use the title this page belongs to";
const TYPED_REF = /^(\d{1,10}|[0-9Xx][0-9Xx -]{8,20})$/;

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function describe(result) {
  const parts = [];
  if (Array.isArray(result.contributors) && result.contributors.length) {
    parts.push(result.contributors.map((c) => (typeof c === "string" ? c : c.name)).filter(Boolean).join(", "));
  }
  if (result.isbn) parts.push(`ISBN ${result.isbn}`);
  parts.push(`work ${result.workId}`);
  return parts.join(" · ");
}

/** transport: { search(query) -> Promise<{status, body}>, choose(titleRef) -> Promise, cancel() }
 *  current: the macro's title setting now ("" = the page set's title). */
export function wirePicker(root, transport, current) {
  root.textContent = "";
  const heading = el("h1", { class: "c4c-picker__heading", id: "c4c-picker-heading" }, "Choose the title");
  const now = el("p", { class: "c4c-hint", id: "c4c-picker-current" },
    current ? `Now showing: work ${current}` : "Now showing: the title this page belongs to");
  const label = el("label", { for: "c4c-picker-query", class: "c4c-label" }, "Search Consonance by title or ISBN");
  const input = el("input", {
    id: "c4c-picker-query", class: "c4c-picker__input", type: "text", role: "combobox", autocomplete: "off",
    spellcheck: "false", "aria-autocomplete": "list", "aria-expanded": "true", "aria-controls": "c4c-picker-results",
    "aria-describedby": "c4c-picker-status",
  });
  const list = el("ul", { id: "c4c-picker-results", class: "c4c-picker__results", role: "listbox",
    "aria-labelledby": "c4c-picker-heading" });
  const status = el("p", { id: "c4c-picker-status", class: "c4c-hint c4c-picker__status", role: "status",
    "aria-live": "polite" });
  const cancel = el("button", { type: "button", class: "c4c-button c4c-picker__cancel" }, "Cancel");
  root.append(heading, now, label, input, status, list, cancel);

  let options = [];      // [{value, title, detail}]
  let active = 0;
  let sequence = 0;      // the newest query sent; answers to older ones are ignored
  let timer = null;
  let choosing = false;

  function render() {
    list.textContent = "";
    options.forEach((option, index) => {
      const item = el("li", { id: `c4c-option-${index}`, role: "option", class: "c4c-picker__option",
        "aria-selected": index === active ? "true" : "false", "data-value": option.value });
      item.append(el("span", { class: "c4c-picker__title" }, option.title));
      if (option.detail) {
        item.append(el("span", { class: `c4c-picker__detail${option.plain ? " c4c-picker__detail--plain" : ""}` },
          option.detail));
      }
      if (option.value === current) item.append(el("span", { class: "c4c-picker__now" }, "current"));
      item.addEventListener("mousedown", (event) => event.preventDefault());  // keep focus in the box
      item.addEventListener("click", () => choose(index));
      list.append(item);
    });
    input.setAttribute("aria-activedescendant", options.length ? `c4c-option-${active}` : "");
  }

  function show(results, typed) {
    options = [{ value: "", title: PAGE_SET_LABEL, detail: "Leave the setting empty (for a title's own pages)",
      plain: true }];
    if (typed && TYPED_REF.test(typed) && !results.some((r) => String(r.workId) === typed)) {
      options.push({ value: typed.replace(/\s+/g, ""), title: `Use “${typed}” as typed`, detail: "a work id or ISBN",
        plain: true });
    }
    results.forEach((r) => options.push({ value: String(r.value || r.workId),
      title: r.subtitle ? `${r.title}: ${r.subtitle}` : r.title, detail: describe(r) }));
    active = options.length > 1 && results.length ? options.length - results.length : 0;
    render();
  }

  function move(delta) {
    if (!options.length) return;
    active = (active + delta + options.length) % options.length;
    render();
    const item = document.getElementById(`c4c-option-${active}`);
    if (item && item.scrollIntoView) item.scrollIntoView({ block: "nearest" });
  }

  async function choose(index) {
    const option = options[index];
    if (!option || choosing) return;
    choosing = true;
    status.textContent = option.value ? `Saving ${option.title}…` : "Saving…";
    try {
      await transport.choose(option.value);
      status.textContent = "Saved.";
    } catch (error) {
      choosing = false;
      status.textContent = "The choice could not be saved. Try again.";
    }
  }

  async function search(text) {
    const mine = ++sequence;
    if (text.length < MIN_QUERY) {
      show([], text);
      status.textContent = text ? `Type at least ${MIN_QUERY} characters.` : "";
      return;
    }
    status.textContent = "Searching…";
    let answer;
    try {
      answer = await transport.search(text);
    } catch (error) {
      answer = null;
    }
    if (mine !== sequence) return;  // a newer query is on its way: this answer is stale
    const body = (answer && answer.body) || {};
    const results = Array.isArray(body.results) ? body.results : [];
    show(results, text);
    if (answer && answer.status >= 200 && answer.status < 300) {
      status.textContent = results.length ? `${results.length} title${results.length === 1 ? "" : "s"} found.`
        : "No titles match. Check the spelling, or type the work id or ISBN.";
    } else {
      status.textContent = (typeof body.message === "string" && body.message)
        || "The search is not answering; type the work id or ISBN instead.";
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    timer = setTimeout(() => search(text), DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (event.key === "Home" && event.ctrlKey) { event.preventDefault(); move(-active); }
    else if (event.key === "End" && event.ctrlKey) { event.preventDefault(); move(options.length - 1 - active); }
    else if (event.key === "Enter") { event.preventDefault(); choose(active); }
    else if (event.key === "Escape") {
      event.preventDefault();
      if (input.value) { input.value = ""; sequence += 1; show([], ""); status.textContent = ""; }
      else transport.cancel();
    }
  });
  cancel.addEventListener("click", () => transport.cancel());

  show([], "");
  input.focus();
  return { search, choose, get options() { return options; } };
}
