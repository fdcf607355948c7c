// The peer in bench/macro_views.py: atlassian-connect-express 11 serving the title-status panel behind
// ACE's own JWT check, clustered on every core, with an in-process store. Started by the bench only.
"use strict";

const cluster = require("node:cluster");
const crypto = require("node:crypto");
const os = require("node:os");

const PORT = Number(process.env.PORT);
const WORKERS = Number(process.env.ACE_WORKERS || os.cpus().length);


// ACE's store contract (get/set/del/getAllClientInfos/...) over a Map: the in-process store.
class MemoryStore {
  constructor() { this.data = new Map(); }
  key(key, clientKey) { return clientKey ? `${clientKey}:${key}` : key; }
  async get(key, clientKey) { return this.data.get(this.key(key, clientKey)) ?? null; }
  async set(key, val, clientKey) { this.data.set(this.key(key, clientKey), val); return val; }
  async saveInstallation(val, clientKey) { return this.set("clientInfo", val, clientKey); }
  async del(key, clientKey) { this.data.delete(this.key(key, clientKey)); }
  async getAllClientInfos() { return [...this.data.entries()].filter(([k]) => k.endsWith(":clientInfo")).map(([, v]) => v); }
  isMemoryStore() { return true; }
  async associateInstallations() {}
  async deleteAssociation() {}
  async getClientSettingsForForgeInstallation() { return null; }
}

function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" }[c]));
}

const STAGE_APPEARANCE = {
  acquisition: "new", contracted: "new", writing: "new", "manuscript delivered": "inprogress", editorial: "inprogress",
  "copy-editing": "inprogress", typesetting: "inprogress", proofs: "inprogress", production: "moved", published: "success",
};
const lozenge = (text, appearance, bold) =>
  `<span class="c4c-lozenge c4c-lozenge--${appearance}${bold ? " c4c-lozenge--bold" : ""}">${escapeHtml(text)}</span>`;

// The same panel markup as templates/macros/panel.html + _title_status.html renders for a title.
function renderPanel(work, fetchedAt, accountId, actionSecret) {
  const stage = work.projectStage || "";
  const asOf = new Date(fetchedAt).toISOString().slice(11, 16);
  const contributors = (work.contributions || []).slice().sort((a, b) => (a.sequenceNumber || 0) - (b.sequenceNumber || 0))
    .map(c => `<li><span class="c4c-contributor__name">${escapeHtml(c.contributor && c.contributor.name)}</span> <span class="c4c-muted">${escapeHtml(c.onixContributorRoleCode)}</span></li>`).join("");
  const formats = (work.products || []).map(p => {
    const status = p.onixPublishingStatus ? p.onixPublishingStatus.description : p.onixPublishingStatusCode;
    return `<tr><th scope="row">${escapeHtml(p.onix21ProductFormCode)}</th><td class="c4c-mono">${escapeHtml((p.isbn && p.isbn.isbnWithDashes) || "—")}</td>` +
      `<td>${p.publicationDate ? escapeHtml(p.publicationDate) : '<span class="c4c-muted">not set</span>'}</td>` +
      `<td>${lozenge(status || "Unknown", "default")}</td></tr>`;
  }).join("");
  const subtitle = (work.products || []).map(p => p.subtitle).find(Boolean);
  let form = '<p class="c4c-hint">Log in to push a decision to Consonance.</p>';
  if (accountId) {
    const claims = Buffer.from(JSON.stringify({ u: accountId, w: work.id, m: "title-status", at: Date.now() })).toString("base64url");
    const token = `${claims}.${crypto.createHmac("sha256", actionSecret).update(claims).digest("base64url")}`;
    form = `<form class="c4c-decision" data-action="decision" novalidate>` +
      `<input type="hidden" name="idempotencyKey" value="${crypto.randomUUID().replace(/-/g, "")}">` +
      `<input type="hidden" name="workId" value="${escapeHtml(work.id)}"><input type="hidden" name="actionToken" value="${token}">` +
      `<h3 class="c4c-subheading" id="c4c-decision-heading">Push a decision to Consonance</h3>` +
      `<div class="c4c-field"><label for="c4c-decision-type">Decision</label><select id="c4c-decision-type" name="decisionType" class="c4c-select" required>` +
      `<option value="" selected disabled>Choose a decision…</option><option value="approve_stage">Approve stage</option>` +
      `<option value="request_changes">Request changes</option><option value="hold">Hold</option><option value="note">Note</option></select></div>` +
      `<div class="c4c-field"><label for="c4c-decision-text">Details <span class="c4c-muted">(sent to Consonance as a note)</span></label>` +
      `<textarea id="c4c-decision-text" name="text" rows="3" maxlength="5000" class="c4c-textarea"></textarea></div>` +
      `<div class="c4c-actions"><button type="submit" class="c4c-button c4c-button--primary">Send to Consonance</button>` +
      `<p class="c4c-form-status" role="status" aria-live="polite"></p></div></form>`;
  }
  return `<section class="c4c-panel c4c-panel--title-status" aria-labelledby="c4c-title-status-heading" data-macro="title-status" data-kind="panel" data-work-id="${escapeHtml(work.id)}">` +
    `<header class="c4c-panel__header"><h2 class="c4c-panel__heading" id="c4c-title-status-heading"><span class="c4c-panel__macro">Title status</span>` +
    `<span class="c4c-visually-hidden">: </span><span class="c4c-panel__title">${escapeHtml(work.title)}</span></h2>` +
    `<div class="c4c-panel__meta"><span class="c4c-asof">as of <time datetime="${new Date(fetchedAt).toISOString()}">${asOf}</time></span>` +
    `<button type="button" class="c4c-button c4c-button--subtle" data-action="refresh" aria-label="Refresh from Consonance">Refresh</button></div></header>` +
    `<div class="c4c-panel__body"><div class="c4c-title"><p class="c4c-title__name">${escapeHtml(work.title)}</p>` +
    (subtitle ? `<p class="c4c-title__subtitle">${escapeHtml(subtitle)}</p>` : "") +
    `<p class="c4c-title__line"><span class="c4c-label">Stage</span> ${lozenge(stage, STAGE_APPEARANCE[stage.toLowerCase()] || "default", true)}` +
    (work.imprint ? ` <span class="c4c-sep" aria-hidden="true">·</span> <span class="c4c-label">Imprint</span> ${escapeHtml(work.imprint)}` : "") + `</p></div>` +
    (contributors ? `<h3 class="c4c-subheading">Contributors</h3><ul class="c4c-list c4c-contributors">${contributors}</ul>` : "") +
    `<h3 class="c4c-subheading">Formats</h3><div class="c4c-table-wrap"><table class="c4c-table"><caption class="c4c-visually-hidden">Formats of ${escapeHtml(work.title)}</caption>` +
    `<thead><tr><th scope="col">Format</th><th scope="col">ISBN</th><th scope="col">Publication</th><th scope="col">Status</th></tr></thead><tbody>${formats}</tbody></table></div>` +
    form + `</div></section>`;
}

function startWorker() {
  const express = require("express");
  const ace = require("atlassian-connect-express");
  ace.store.register("memory", () => new MemoryStore());

  const app = express();
  app.set("env", "production");
  const addon = ace(app, { config: { production: { port: PORT, localBaseUrl: process.env.AC_LOCAL_BASE_URL, store: { adapter: "memory" } } } });
  // As ACE's app template: body parsers first (ACE reads `req.body` when looking for the token).
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use(addon.middleware());

  // The tenant as a signed install would leave it (ACE's own install route needs Atlassian's key CDN).
  addon.settings.set("clientInfo", {
    key: addon.key, clientKey: process.env.CLIENT_KEY, sharedSecret: process.env.SHARED_SECRET,
    baseUrl: process.env.PRODUCT_BASE_URL, productType: "confluence",
  }, process.env.CLIENT_KEY);

  const consonance = process.env.CONSONANCE_URL + "/graphql";
  const query = require("node:fs").readFileSync(process.env.TITLE_QUERY_FILE, "utf8");
  const freshnessMs = 300 * 1000;
  const titles = new Map();   // clientKey|workId -> {work, fetchedAt}: the in-process cache
  const inflight = new Map(); // single flight within this worker
  const actionSecret = crypto.randomBytes(32);

  async function title(clientKey, workId) {
    const key = `${clientKey}|${workId}`;
    const hit = titles.get(key);
    if (hit && Date.now() - hit.fetchedAt < freshnessMs) return hit;
    if (!inflight.has(key)) {
      inflight.set(key, (async () => {
        const response = await fetch(consonance, {
          method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${process.env.CONSONANCE_API_KEY}` },
          body: JSON.stringify({ query, variables: { workId: String(workId) }, operationName: "TitleByWorkId" }),
        });
        const body = await response.json();
        const entry = { work: body.data && body.data.work, fetchedAt: Date.now() };
        titles.set(key, entry);
        return entry;
      })().finally(() => inflight.delete(key)));
    }
    return inflight.get(key);
  }

  // Same route and query as the app's Connect iframe; the context JWT is checked by ACE (qsh skipped,
  // as ACE requires for context tokens).
  app.get("/connect/macro/:macroKey", addon.authenticate(true), async (req, res) => {
    try {
      const { work, fetchedAt } = await title(res.locals.clientKey, req.query.title);
      if (!work) return res.status(404).send("Title not found");
      const panel = renderPanel(work, fetchedAt, res.locals.userAccountId, actionSecret);
      res.set("Content-Security-Policy", `default-src 'self'; frame-ancestors ${new URL(res.locals.hostBaseUrl).origin}`);
      res.type("html").send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Consonance — Title status</title>` +
        `<link rel="stylesheet" href="/static/customui/panel.css"></head><body class="c4c-body"><main class="c4c-root" id="c4c-root">${panel}</main></body></html>`);
    } catch (err) {
      res.status(502).send("Consonance is not answering");
    }
  });

  app.listen(PORT, "127.0.0.1");
}

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i += 1) cluster.fork();
  cluster.on("exit", (worker, code) => console.error(`worker ${worker.process.pid} exited ${code}`));
} else {
  startWorker();
}
