// The job dashboard: live progress from the film websockets of films with work under way (rows
// still unfinished ask the API again after a resync: events were missed while a socket was away),
// batches expanded into their shots (the server's own ?parent= rendering, fetched), cancel and retry.
import { api } from "../common/api.js";
import { duration, escapeHtml, relativeTime } from "../common/format.js";
import { bindKeys } from "../common/keys.js";
import { toast } from "../common/toast.js";
import { ReconnectingSocket } from "../common/ws.js";

const root = document.getElementById("jobs-page");
const form = document.getElementById("job-filters");
const indicator = document.getElementById("live-indicator");
const STATUS_LABELS = { pending: "Pending", running: "Running", succeeded: "Succeeded", failed: "Failed", cancelled: "Cancelled" };
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
let activeRow = null;

// Filters: a plain GET form; submitting on change keeps the URL shareable.
form.addEventListener("change", () => form.requestSubmit());

const rowsOf = (jobId) => root.querySelectorAll(`tr[data-job-id="${jobId}"]`);

/** Apply a job state (from the API or a websocket message) to every row showing that job. */
function applyState(row, state) {
  const status = state.status ?? row.dataset.status;
  row.dataset.status = status;
  const pill = row.querySelector('[data-role="status"]');
  pill.className = `status status-${status}`;
  pill.textContent = STATUS_LABELS[status] ?? status;
  if (state.progress != null) {
    const percent = Math.round(state.progress * 100);
    const bar = row.querySelector(".progress");
    bar.className = `progress ${status}`;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.querySelector(".bar").style.width = `${percent}%`;
    row.querySelector('[data-role="percent"]').textContent = `${percent}\u2009%`;
  }
  if (state.frames_total) {
    const eta = state.eta_seconds ? ` · about ${duration(state.eta_seconds)} left` : "";
    row.querySelector('[data-role="meta"]').textContent = `${state.frames_done} / ${state.frames_total} frames${eta}`;
  }
  const chips = row.querySelector('[data-role="chips"]');
  if (chips && state.children_summary) {
    chips.innerHTML = Object.entries(state.children_summary)
      .filter(([, count]) => count)
      .map(([name, count]) => `<span class="shot-count status-${escapeHtml(name)}">${Number(count)} ${escapeHtml(name)}</span>`)
      .join("");
  }
  const failures = row.querySelector('[data-role="failures"]');
  if (failures && Array.isArray(state.failed_shots) && state.parent == null && state.kind === "restore_batch") {
    const shown = state.failed_shots.slice(0, 5)
      .map((failure) => `<li>Shot ${Number(failure.number)} <span>${escapeHtml(String(failure.error ?? "").slice(0, 120))}</span></li>`);
    if (state.failed_shots.length > 5) shown.push(`<li><span>and ${state.failed_shots.length - 5} more</span></li>`);
    failures.innerHTML = shown.join("");
  }
  const cancel = row.querySelector('[data-action="cancel"]');
  const retry = row.querySelector('[data-action="retry"]');
  if (cancel) cancel.hidden = FINISHED.has(status);
  if (retry) retry.hidden = !(status === "failed" || status === "cancelled");
}

// ---- relative times stay current ----

function refreshTimes() {
  for (const time of root.querySelectorAll("time[datetime]")) time.textContent = relativeTime(time.dateTime);
}
refreshTimes();
setInterval(refreshTimes, 30000);

/** The head's counts, from the top-level rows' current states. */
function recount() {
  const rows = topRows();
  const active = rows.filter((row) => row.dataset.status === "pending" || row.dataset.status === "running").length;
  const failed = rows.filter((row) => row.dataset.status === "failed").length;
  root.querySelector('[data-role="active-count"]').textContent = String(active);
  root.querySelector('[data-role="failed-count"]').textContent = String(failed);
}

// ---- live progress ----

const liveFilms = (root.dataset.liveFilms || "").split(",").filter(Boolean);
let openSockets = 0;
for (const filmId of liveFilms) {
  const socket = new ReconnectingSocket(`ws/films/${filmId}/`);
  socket.addEventListener("open", () => {
    openSockets += 1;
    indicator.classList.add("on");
    indicator.querySelector(".live-text").textContent = "Live";
  });
  socket.addEventListener("close", (event) => {
    openSockets = Math.max(0, openSockets - 1);
    if (openSockets) return;
    indicator.classList.remove("on");
    indicator.querySelector(".live-text").textContent = event.detail.final ? "Offline" : "Reconnecting…";
  });
  socket.addEventListener("resync", () => resyncFilm(filmId));
  socket.addEventListener("message", (event) => {
    const data = event.detail;
    if (!String(data.type).startsWith("job.")) return;
    const jobId = data.job ?? data.id;
    const rows = rowsOf(jobId);
    for (const row of rows) applyState(row, data);
    recount();
    // A job started elsewhere: offer a reload rather than reshuffling the table under the user.
    if (!rows.length && data.parent == null) document.getElementById("new-jobs").hidden = false;
    if (data.type === "job.finished" && data.status === "failed" && rowsOf(jobId).length) {
      toast(data.error || "See the job for details.", { kind: "error", title: `Job #${jobId} failed` });
    }
  });
}

// After a film's socket was away (or the server lost events): its unfinished rows ask the API.
async function resyncFilm(filmId) {
  const unfinished = new Set([...root.querySelectorAll(`tr[data-job-id][data-film-id="${filmId}"]`)]
    .filter((row) => !FINISHED.has(row.dataset.status)).map((row) => row.dataset.jobId));
  const states = await Promise.all([...unfinished].map((id) => api(`/api/jobs/${id}/`, { quiet: true }).catch(() => null)));
  for (const state of states) {
    if (state) for (const row of rowsOf(state.id)) applyState(row, state);
  }
  recount();
}

// ---- batches: expand into their shots ----

// A batch's shots are rows of the same table, right under it, so their columns line up with
// the batch's; they carry data-child-of and are left out of the counts and the keyboard's rows.
function childRow(batchId, cells) {
  const tr = document.createElement("tr");
  tr.className = "child-row";
  tr.dataset.childOf = batchId;
  tr.innerHTML = `<td></td><td colspan="6">${cells}</td>`;
  return tr;
}

async function expand(row) {
  const batchId = row.dataset.jobId;
  if (row.getAttribute("aria-expanded") === "true") {
    row.setAttribute("aria-expanded", "false");
    for (const child of root.querySelectorAll(`tr[data-child-of="${batchId}"]`)) child.remove();
    return;
  }
  row.setAttribute("aria-expanded", "true");
  const placeholder = childRow(batchId, `<p class="muted small"><span class="spinner"></span> Loading shots…</p>`);
  row.after(placeholder);
  try {
    const response = await fetch(`${location.pathname}?parent=${batchId}`, { credentials: "same-origin" });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const children = [...(page.getElementById("jobs-table")?.querySelectorAll("tbody > tr[data-job-id]") ?? [])];
    if (!children.length) {
      placeholder.lastElementChild.innerHTML = `<p class="muted small">This batch has no shots yet.</p>`;
      return;
    }
    for (const child of children) {
      child.classList.add("child-row");
      child.dataset.childOf = batchId;
      child.firstElementChild.replaceChildren();
    }
    placeholder.replaceWith(...children);
    refreshTimes();
  } catch {
    placeholder.lastElementChild.innerHTML = `<p class="error small">The shots of this batch could not be loaded.</p>`;
  }
}

// ---- cancel and retry ----

async function act(button) {
  const row = button.closest("tr[data-job-id]");
  const jobId = row.dataset.jobId;
  const action = button.dataset.action;
  button.disabled = true;
  try {
    const job = await api(`/api/jobs/${jobId}/${action}/`, { method: "POST", quiet: true });
    if (action === "cancel") {
      applyState(row, job ?? { status: "cancelled" });
      toast(`Job #${jobId} was cancelled.`, { kind: "ok" });
    } else {
      toast(`Job #${jobId} was queued again.`, { kind: "ok", title: "Retrying" });
      setTimeout(() => location.reload(), 600);
    }
  } catch (error) {
    const message = error.status === 404 && action === "retry" ? "Retry is not available on this server yet." : error.message;
    toast(message, { kind: "error", title: `Could not ${action} job #${jobId}` });
  } finally {
    button.disabled = false;
  }
}

document.getElementById("new-jobs").addEventListener("click", () => location.reload());

root.addEventListener("click", (event) => {
  const expander = event.target.closest("[data-expand]");
  if (expander) {
    expand(expander.closest("tr"));
    return;
  }
  const button = event.target.closest("button[data-action]");
  if (button) act(button);
});

// ---- keyboard: move between jobs, expand and collapse batches ----

function topRows() {
  return [...root.querySelectorAll("#jobs-table > tbody > tr[data-job-id]:not([data-child-of])")];
}

function select(delta) {
  const rows = topRows();
  if (!rows.length) return;
  const index = Math.max(0, Math.min(rows.length - 1, rows.indexOf(activeRow) + delta));
  activeRow?.setAttribute("aria-selected", "false");
  activeRow = rows[index];
  activeRow.setAttribute("aria-selected", "true");
  activeRow.scrollIntoView({ block: "nearest" });
}

bindKeys({
  ArrowDown: (event) => { event.preventDefault(); select(1); },
  ArrowUp: (event) => { event.preventDefault(); select(-1); },
  j: () => select(1),
  k: () => select(-1),
  ArrowRight: () => { if (activeRow?.getAttribute("aria-expanded") === "false") expand(activeRow); },
  ArrowLeft: () => { if (activeRow?.getAttribute("aria-expanded") === "true") expand(activeRow); },
  Enter: (event) => {
    if (!activeRow || event.target.closest?.("a, button")) return;
    if (activeRow.hasAttribute("aria-expanded")) expand(activeRow);
    else activeRow.querySelector(".job-target a")?.click();
  },
});
