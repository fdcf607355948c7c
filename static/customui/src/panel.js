/* Panel behaviour shared by both transports: Refresh, the push-decision form, resizing.
   The panel HTML comes rendered (and escaped) from the server; this only swaps it in and wires it. */

function randomKey() {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function setStatus(form, text, kind) {
  const status = form.querySelector(".c4c-form-status");
  if (!status) return;
  status.textContent = text;
  status.classList.remove("c4c-form-status--error", "c4c-form-status--ok");
  if (kind) status.classList.add(`c4c-form-status--${kind}`);
}

function messageOf(body, fallback) {
  return (body && typeof body.message === "string" && body.message) || fallback;
}

/** transport: { load(refresh) -> {status, body}, sendDecision(payload) -> {status, body},
 *               renewActionToken(workId) -> string|null, resize() } */
export function wirePanel(root, transport) {
  let refreshing = false;

  function show(html) {
    const form = root.querySelector("form[data-action=decision]");
    const kept = form ? { text: form.elements.text.value, type: form.elements.decisionType.value } : null;
    root.innerHTML = html;
    const fresh = root.querySelector("form[data-action=decision]");
    if (kept && fresh) {
      fresh.elements.text.value = kept.text;
      if ([...fresh.elements.decisionType.options].some((o) => o.value === kept.type)) {
        fresh.elements.decisionType.value = kept.type;
      }
    }
    transport.resize();
  }

  let lastAnswer = null;

  async function load(refresh) {
    const answer = await transport.load(refresh);
    lastAnswer = answer;
    if (answer && answer.body && typeof answer.body.html === "string") {
      show(answer.body.html);
      return true;
    }
    return false;
  }

  function refreshFailed(button) {
    // too many Refreshes: the server's sentence says when to try again
    const limited = lastAnswer && lastAnswer.status === 429;
    button.textContent = limited ? messageOf(lastAnswer.body, "Try again shortly") : "Refresh failed — try again";
    button.disabled = false;
    transport.resize();
  }

  async function refresh(button) {
    if (refreshing) return;
    refreshing = true;
    button.disabled = true;
    button.textContent = "Refreshing…";
    try {
      if (!(await load(true))) refreshFailed(button);
    } catch (error) {
      lastAnswer = null;
      refreshFailed(button);
    } finally {
      refreshing = false;
    }
  }

  async function submit(form) {
    if (form.dataset.sending === "1") return;  // a double-click sends once; the key covers any resend
    const button = form.querySelector("button[type=submit]");
    form.dataset.sending = "1";
    button.disabled = true;
    setStatus(form, "Sending to Consonance…");
    const payload = {
      macro: root.dataset.macro || "title-status",
      pageId: root.dataset.page || null,
      workId: form.elements.workId.value,
      decisionType: form.elements.decisionType.value,
      text: form.elements.text.value,
      idempotencyKey: form.elements.idempotencyKey.value,
      actionToken: form.elements.actionToken ? form.elements.actionToken.value : undefined,
    };
    try {
      const answer = await transport.sendDecision(payload);
      const body = answer ? answer.body : null;
      if (answer && (answer.status === 200 || answer.status === 201)) {
        const sent = messageOf(body, "Sent to Consonance.");
        setStatus(form, sent, "ok");
        form.elements.text.value = "";
        form.elements.idempotencyKey.value = randomKey();  // the next decision is a new one
        // The panel as it now stands: an approval shows "Moving to …" and is not offered a second time.
        try {
          if (await load(false)) {
            const fresh = root.querySelector("form[data-action=decision]");
            if (fresh) setStatus(fresh, sent, "ok");
          }
        } catch (error) {
          // the decision is recorded; the panel shows its new state on the next view
        }
      } else if (answer && answer.status === 401) {
        if (body && body.error === "form_expired" && form.elements.actionToken) {
          const renewed = await transport.renewActionToken(payload.workId);
          if (renewed) form.elements.actionToken.value = renewed;
        }
        setStatus(form, "Your session expired before this was sent. Your text is kept — press Send again.", "error");
      } else {
        setStatus(form, messageOf(body, "Consonance could not take this decision now. Your text is kept — try again."), "error");
      }
    } catch (error) {
      setStatus(form, "Could not reach the app. Your text is kept — try again.", "error");
    } finally {
      form.dataset.sending = "";
      button.disabled = false;
      transport.resize();
    }
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action=refresh]");
    if (button) refresh(button);
  });
  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-action=decision]");
    if (!form) return;
    event.preventDefault();
    submit(form);
  });
  return { load, show };
}
