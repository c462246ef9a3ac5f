// wasend dashboard: polls /v1/contexts, /v1/stats and /v1/jobs, follows
// the QR codes of contexts waiting for a login over Server-Sent Events, and
// sends through the API. The session cookie authenticates every call.
"use strict";

const POLL_MS = 1500;
const JOBS_MS = 2000;
const PAGE_SIZE = 12;

const state = {
  contexts: [],          // GET /v1/contexts
  stats: null,           // GET /v1/stats
  streams: new Map(),    // context id -> EventSource
  qrs: new Map(),        // context id -> data: URL of its latest QR code
  pushed: new Map(),     // context id -> the latest status a stream pushed
  cursors: [""],         // the cursor of each page seen, page 0 first
  page: 0,
  next: "",
  expanded: new Set(),   // job ids shown with their messages
  details: new Map(),    // job id -> GET /v1/jobs/{id}?masked=1
  jobsKey: "",
};

const $ = (sel) => document.querySelector(sel);

// h builds an element; children are nodes or strings (set as text, never
// as HTML).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const badge = (status) => h("span", { class: "badge s-" + status }, status);

async function api(method, path, body, headers) {
  const opts = { method, headers: Object.assign({}, headers), credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401) {
    location.reload(); // the session ended: back to the sign-in page
    throw new Error("signed out");
  }
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json() : null;
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.statusText);
    err.kind = data && data.error && data.error.kind;
    throw err;
  }
  return data;
}

let toastTimer;
function toast(msg, isErr) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "toast" + (isErr ? " err" : "");
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return new Date(iso).toLocaleString();
}

const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
const left = (n) => (n < 0 ? "∞" : String(n));

function megabytes(bytes) {
  if (bytes == null || bytes < 0) return "memory n/a";
  return (bytes / (1 << 20)).toFixed(0) + " MB";
}

// ----- contexts

// waiting reports whether a context may show a QR code here.
const waiting = (c) => c.has_qr || (c.live && (c.status === "disconnected" || c.status === "error"));
const loggedIn = (s) => s === "available" || s === "busy" || s === "restricted";

function statusOf(c) {
  const pushed = state.pushed.get(c.id);
  // A stream's status is newer than the last poll until the poll agrees.
  return pushed && pushed !== c.status && loggedIn(pushed) && !loggedIn(c.status) ? pushed : c.status;
}

function follow(id) {
  if (state.streams.has(id)) return;
  const es = new EventSource(`/v1/contexts/${id}/qr/stream`);
  state.streams.set(id, es);
  es.addEventListener("qr", (ev) => {
    state.qrs.set(id, JSON.parse(ev.data).png);
    renderContexts();
  });
  es.addEventListener("status", (ev) => {
    const { status } = JSON.parse(ev.data);
    state.pushed.set(id, status);
    if (status !== "disconnected" && status !== "error") {
      es.close();
      state.streams.delete(id);
      state.qrs.delete(id);
    }
    renderContexts();
    renderSendContexts();
  });
}

function unfollow(id) {
  const es = state.streams.get(id);
  if (es) es.close();
  state.streams.delete(id);
  state.qrs.delete(id);
}

function renderContexts() {
  const box = $("#contexts");
  const list = state.contexts;
  if (!list.length) {
    box.replaceChildren(h("p", { class: "empty" },
      "No browser context yet. Create one, then scan its QR code with WhatsApp › Linked devices."));
    return;
  }
  const stats = new Map(((state.stats && state.stats.contexts) || []).map((s) => [s.id, s]));
  box.replaceChildren(...list.map((c) => contextCard(c, stats.get(c.id))));
}

function contextCard(c, st) {
  const status = statusOf(c);
  const qr = !loggedIn(status) && state.qrs.get(c.id);
  const pacing = st && st.pacing;
  const jobs = (st && st.jobs) || {};
  const msgs = (st && st.messages) || {};
  return h("article", { class: "card", id: "ctx-" + c.id, dataset: { status } },
    h("div", { class: "card-head" },
      h("span", { class: "card-title" }, "Context #" + c.id),
      badge(status)),
    h("div", { class: "card-meta" },
      h("span", {}, h("span", { class: "live-dot" + (c.live ? " on" : "") }), c.live ? "live" : "not live here"),
      h("span", {}, megabytes(st && st.memory_pss)),
      c.proxy && h("span", { class: "mono" }, c.proxy)),
    pacing
      ? h("dl", { class: "budget", title: "What is left of the pacing budget" },
          h("div", {}, h("dt", {}, "Hour"), h("dd", { class: "hour-left" }, left(pacing.hour_left))),
          h("div", {}, h("dt", {}, "Day"), h("dd", { class: "day-left" }, left(pacing.day_left))),
          h("div", {}, h("dt", {}, "New contacts"), h("dd", { class: "new-left" }, left(pacing.new_contacts_left))))
      : h("p", { class: "budget-off" }, "No pacing budget (pacing off)"),
    pacing && pacing.wait && h("span", { class: "wait" }, `next send waits: ${pacing.wait}` + (pacing.until ? ` until ${clock(pacing.until)}` : "")),
    c.restriction && h("span", { class: "wait" }, `restricted: ${c.restriction.kind}` + (c.restriction.until ? ` until ${clock(c.restriction.until)}` : "")),
    qr && h("div", { class: "qr-box" },
      h("img", { class: "qr", src: qr, alt: `Login QR code of context ${c.id}` }),
      h("p", {}, "Scan with WhatsApp › Settings › Linked devices")),
    !qr && !loggedIn(status) && waiting(c) && h("div", { class: "qr-box" }, h("p", {}, "Waiting for a QR code…")),
    h("div", { class: "card-foot" },
      h("span", {}, `${jobs.completed || 0} jobs completed`),
      h("span", {}, `${msgs.sent || 0} sent`),
      (msgs.failed || 0) > 0 && h("span", {}, `${msgs.failed} failed`),
      c.first_login_at && h("span", {}, "linked " + ago(c.first_login_at))));
}

function renderSendContexts() {
  const sel = $("#send-context");
  const keep = sel.value;
  const usable = state.contexts.filter((c) => c.status !== "closed");
  const opts = usable.map((c) => h("option", { value: String(c.id) }, `#${c.id} · ${statusOf(c)}`));
  if (!opts.length) opts.push(h("option", { value: "" }, "no context yet"));
  const key = opts.map((o) => o.value + o.textContent).join("|");
  if (sel.dataset.key === key) return;
  sel.dataset.key = key;
  sel.replaceChildren(...opts);
  const firstAvailable = usable.find((c) => loggedIn(statusOf(c)));
  if (keep && usable.some((c) => String(c.id) === keep)) sel.value = keep;
  else if (firstAvailable) sel.value = String(firstAvailable.id);
}

function renderSummary() {
  const st = state.stats;
  if (!st) return;
  const sum = (m) => Object.values(m || {}).reduce((a, b) => a + b, 0);
  const jobsBy = (status) => sum(Object.values(st.jobs || {}).map((byStatus) => byStatus[status] || 0));
  const ctxs = st.contexts || [];
  const chip = (n, label) => h("span", { class: "chip" }, h("b", {}, n < 0 ? "–" : String(n)), h("span", {}, label));
  $("#summary").replaceChildren(
    chip(ctxs.filter((c) => loggedIn(c.status)).length + "/" + ctxs.length, "contexts online"),
    chip((st.messages || {}).sent || 0, "sent"),
    chip((st.messages || {}).failed || 0, "failed"),
    chip(jobsBy("pending") + jobsBy("running"), "jobs active"),
    chip(st.queue ? st.queue.waiting : -1, "queued"),
    chip(st.queue ? st.queue.in_flight : -1, "in flight"));
}

async function pollContexts() {
  try {
    const [list, stats] = await Promise.all([api("GET", "/v1/contexts"), api("GET", "/v1/stats")]);
    state.contexts = list.contexts.sort((a, b) => a.id - b.id);
    state.stats = stats;
    for (const c of state.contexts) {
      const pushed = state.pushed.get(c.id);
      if (pushed && pushed === c.status) state.pushed.delete(c.id);
      if (waiting(c) && !loggedIn(pushed)) follow(c.id);
      else if (!waiting(c)) unfollow(c.id);
    }
    renderContexts();
    renderSendContexts();
    renderSummary();
  } catch (e) {
    console.warn("polling contexts:", e);
  }
}

async function newContext() {
  const btn = $("#new-context");
  btn.disabled = true;
  btn.textContent = "Launching a browser…";
  try {
    const c = await api("POST", "/v1/contexts", {});
    toast(`Context #${c.id} created: scan its QR code`);
    follow(c.id);
    await pollContexts();
  } catch (e) {
    toast("Creating a context: " + e.message, true);
  } finally {
    btn.disabled = false;
    btn.textContent = "+ New context";
  }
}

// ----- jobs

const finished = (s) => s === "completed" || s === "failed" || s === "cancelled";

function jobButtons(j) {
  const b = (action, label, extra) => h("button", { class: "btn small" + (extra || ""), type: "button", dataset: { action, id: String(j.id) } }, label);
  return [
    (j.status === "pending" || j.status === "running") && b("pause", "Pause"),
    j.status === "paused" && b("resume", "Resume"),
    !finished(j.status) && b("cancel", "Cancel", " danger"),
  ];
}

function jobRows(j) {
  const open = state.expanded.has(j.id);
  const rows = [h("tr", { class: "job" + (open ? " open" : ""), id: "job-" + j.id, dataset: { id: String(j.id), status: j.status } },
    h("td", { class: "toggle", "aria-label": open ? "Hide the messages" : "Show the messages" }),
    h("td", {}, h("b", {}, "#" + j.id)),
    h("td", {}, "#" + j.context_id),
    h("td", {}, j.kind),
    h("td", {}, badge(j.status), j.wait && !finished(j.status) ? h("div", { class: "sub" }, "waits: " + j.wait) : null,
      j.error_kind ? h("div", { class: "sub" }, j.error_kind) : null),
    h("td", {}, `${j.attempts}/${j.max_attempts}`),
    h("td", { title: j.created_at || "" }, ago(j.created_at)),
    h("td", { class: "actions" }, jobButtons(j)))];
  if (open) {
    const d = state.details.get(j.id);
    const msgs = (d && d.messages) || [];
    rows.push(h("tr", { class: "detail", id: "job-detail-" + j.id },
      h("td", { colspan: "8" }, d
        ? h("table", { class: "messages" },
            h("thead", {}, h("tr", {}, ["#", "To", "Text", "Status", "Attempts", "Sent"].map((t) => h("th", {}, t)))),
            h("tbody", {}, msgs.map((m) => h("tr", { class: "message", dataset: { status: m.status } },
              h("td", {}, String(m.position + 1)),
              h("td", { class: "mono to" }, m.to),
              h("td", { class: "text", title: m.text }, m.text),
              h("td", {}, badge(m.status), m.error_kind ? h("span", { class: "sub" }, " " + m.error_kind) : null),
              h("td", {}, String(m.attempts)),
              h("td", {}, clock(m.sent_at))))))
        : h("span", { class: "sub" }, "Loading…"))));
  }
  return rows;
}

async function refreshJobs() {
  try {
    const cur = state.cursors[state.page];
    const page = await api("GET", `/v1/jobs?order=newest&limit=${PAGE_SIZE}&masked=1` + (cur ? "&cursor=" + encodeURIComponent(cur) : ""));
    state.next = page.next_cursor || "";
    const ids = new Set(page.jobs.map((j) => j.id));
    await Promise.all([...state.expanded].filter((id) => ids.has(id)).map(async (id) => {
      try {
        state.details.set(id, await api("GET", `/v1/jobs/${id}?masked=1`));
      } catch (e) {
        console.warn("job", id, e);
      }
    }));
    renderJobs(page.jobs);
  } catch (e) {
    console.warn("polling jobs:", e);
  }
}

function renderJobs(jobs) {
  const key = JSON.stringify([jobs, [...state.expanded].map((id) => state.details.get(id) || id), Math.floor(Date.now() / 10000)]);
  $("#jobs-newer").disabled = state.page === 0;
  $("#jobs-older").disabled = !state.next;
  if (key === state.jobsKey) return;
  state.jobsKey = key;
  const body = $("#jobs");
  if (!jobs.length) {
    body.replaceChildren(h("tr", { class: "empty-row" }, h("td", { colspan: "8" }, "No job yet.")));
    return;
  }
  body.replaceChildren(...jobs.flatMap(jobRows));
}

async function onJobsClick(ev) {
  const btn = ev.target.closest("button[data-action]");
  if (btn) {
    ev.stopPropagation();
    btn.disabled = true;
    try {
      const j = await api("POST", `/v1/jobs/${btn.dataset.id}/${btn.dataset.action}?masked=1`);
      toast(`Job #${j.id}: ${j.status}`);
    } catch (e) {
      toast(`Job #${btn.dataset.id}: ${e.message}`, true);
    }
    await refreshJobs();
    return;
  }
  const row = ev.target.closest("tr.job");
  if (!row) return;
  const id = Number(row.dataset.id);
  if (state.expanded.has(id)) state.expanded.delete(id);
  else state.expanded.add(id);
  state.jobsKey = "";
  await refreshJobs();
}

// ----- sending

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// The form keeps its Idempotency-Key until it is sent or edited, so that a
// retry after a network error cannot send twice.
function resetKey() {
  const form = $("#send-form");
  form.dataset.key = newKey();
  $("#send-key").textContent = "key " + form.dataset.key.slice(0, 8) + "…";
}

async function onSend(ev) {
  ev.preventDefault();
  const form = ev.target;
  const out = $("#send-result");
  const ctx = $("#send-context").value;
  const tos = $("#send-to").value.split(/[\n;]+/).map((s) => s.trim()).filter(Boolean);
  const text = $("#send-text").value;
  if (!ctx) {
    out.className = "form-result err";
    out.textContent = "Create a context first.";
    return;
  }
  const btn = $("#send-submit");
  btn.disabled = true;
  // The last answer goes until this one comes: it is not this send's.
  out.className = "form-result pending";
  out.textContent = "Sending…";
  try {
    const headers = { "Idempotency-Key": form.dataset.key };
    const j = tos.length === 1
      ? await api("POST", `/v1/contexts/${ctx}/messages?masked=1`, { to: tos[0], text }, headers)
      : await api("POST", `/v1/contexts/${ctx}/bulk?masked=1`, { messages: tos.map((to) => ({ to, text })) }, headers);
    out.className = "form-result ok";
    out.textContent = `Job #${j.id} queued (${j.kind}, ${tos.length} message${tos.length > 1 ? "s" : ""}).`;
    $("#send-to").value = "";
    resetKey();
    state.page = 0;
    await refreshJobs();
  } catch (e) {
    out.className = "form-result err";
    out.textContent = e.message;
    if (e.kind) resetKey(); // the server answered: a new attempt is a new send
  } finally {
    btn.disabled = false;
  }
}

// ----- start

function start() {
  $("#new-context").addEventListener("click", newContext);
  $("#jobs").addEventListener("click", onJobsClick);
  $("#send-form").addEventListener("submit", onSend);
  $("#send-form").addEventListener("input", (ev) => { if (ev.target.tagName === "TEXTAREA") resetKey(); });
  $("#jobs-older").addEventListener("click", () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page++;
    refreshJobs();
  });
  $("#jobs-newer").addEventListener("click", () => {
    if (state.page > 0) state.page--;
    refreshJobs();
  });
  resetKey();
  pollContexts();
  refreshJobs();
  setInterval(pollContexts, POLL_MS);
  setInterval(refreshJobs, JOBS_MS);
}

document.addEventListener("DOMContentLoaded", start);
