// The film page: keyboard and mouse selection of shots, grid / filmstrip, status filter, batch
// restore (POST /api/films/<id>/restore/), analysing a scan (POST /api/films/<id>/analyse/),
// starting a live review session of the selected shots (POST /api/sessions/) and live job
// progress from ws/films/<id>/. After the socket was away (or the server lost events) the cards catch up: statuses and versions from the page as the server
// renders it now, progress from the film's jobs under way.
import { api } from "../common/api.js";
import { bindKeys } from "../common/keys.js";
import { toast } from "../common/toast.js";
import { ReconnectingSocket } from "../common/ws.js";

const container = document.getElementById("shots");
const filmId = container.dataset.filmId;
const canRestore = container.dataset.canRestore === "true";
const selected = new Set();
let anchor = null; // the card a shift-click or shift-arrow extends from

const cards = () => [...container.querySelectorAll(".shot")];
const cardOf = (shotId) => container.querySelector(`.shot[data-shot-id="${shotId}"]`);
const STATUS_LABELS = { pending: "Pending", in_restoration: "In restoration", in_review: "In review",
  changes_requested: "Changes requested", approved: "Approved", rejected: "Rejected" };

// ---- focus (roving tabindex) and selection ----

function focusCard(card) {
  if (!card) return;
  for (const other of cards()) other.tabIndex = other === card ? 0 : -1;
  card.focus({ preventScroll: true });
  card.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function renderSelection() {
  for (const card of cards()) {
    const on = selected.has(card.dataset.shotId);
    card.setAttribute("aria-selected", on ? "true" : "false");
    const box = card.querySelector(".select-box input");
    if (box) box.checked = on;
  }
  const button = document.getElementById("restore-selected");
  if (button) {
    button.disabled = selected.size === 0;
    button.textContent = selected.size ? `Restore ${selected.size}` : "Restore selected";
  }
}

function toggle(card) {
  if (!card) return;
  const id = card.dataset.shotId;
  if (selected.has(id)) selected.delete(id);
  else selected.add(id);
  anchor = card;
  renderSelection();
}

function selectRange(toCard) {
  const list = cards();
  const from = list.indexOf(anchor ?? toCard);
  const to = list.indexOf(toCard);
  const [lo, hi] = from < to ? [from, to] : [to, from];
  for (const card of list.slice(lo, hi + 1)) selected.add(card.dataset.shotId);
  renderSelection();
}

function openCard(card) {
  if (card?.dataset.href) location.href = card.dataset.href;
}

container.addEventListener("click", (event) => {
  const card = event.target.closest(".shot");
  if (!card) return;
  const onCheckbox = event.target.closest(".select-box");
  if (event.shiftKey) {
    event.preventDefault();
    selectRange(card);
  } else if (event.ctrlKey || event.metaKey || onCheckbox) {
    if (!onCheckbox) event.preventDefault();
    toggle(card);
  } else {
    // A plain click on the card's link is the browser's to follow (a middle click opens a new tab).
    if (!event.target.closest("a[href]")) openCard(card);
    return;
  }
  focusCard(card);
});

// ---- keyboard ----

function columns() {
  const list = cards();
  if (!list.length || container.classList.contains("strip")) return list.length;
  const top = list[0].offsetTop;
  const perRow = list.findIndex((card) => card.offsetTop !== top);
  return perRow === -1 ? list.length : perRow;
}

function move(delta, event) {
  const list = cards();
  if (!list.length) return;
  event.preventDefault();
  const current = list.indexOf(document.activeElement);
  const next = list[Math.max(0, Math.min(list.length - 1, current === -1 ? 0 : current + delta))];
  if (event.shiftKey) {
    if (!anchor && current !== -1) anchor = list[current];
    selectRange(next);
  }
  focusCard(next);
}

container.addEventListener("keydown", (event) => {
  const card = event.target.closest(".shot");
  if (!card) return;
  if (event.key === "Enter") {
    event.preventDefault();
    openCard(card);
  } else if (event.key === " " || event.key === "x") {
    event.preventDefault();
    toggle(card);
  }
});

bindKeys({
  ArrowRight: (event) => move(1, event),
  ArrowLeft: (event) => move(-1, event),
  ArrowDown: (event) => move(columns(), event),
  ArrowUp: (event) => move(-columns(), event),
  Home: (event) => { event.preventDefault(); focusCard(cards()[0]); },
  End: (event) => { event.preventDefault(); focusCard(cards().at(-1)); },
  a: () => {
    for (const card of cards()) selected.add(card.dataset.shotId);
    renderSelection();
  },
  Escape: () => { selected.clear(); anchor = null; renderSelection(); },
  v: () => setView(container.classList.contains("strip") ? "grid" : "strip"),
});

// ---- grid or filmstrip (no reload; the URL stays shareable). The status filter and the pages of
// shots are plain links: the server filters, so a page never holds only part of a status. ----

function updateUrl(name, value) {
  const url = new URL(location.href);
  if (value) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  history.replaceState(null, "", url);
}

function setView(view) {
  container.classList.toggle("grid", view === "grid");
  container.classList.toggle("strip", view === "strip");
  for (const link of document.querySelectorAll("#view-toggle [data-view]")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  localStorage.setItem("film-page-view", view);
  updateUrl("view", view === "grid" ? "" : view);
}

/** A shot changed status live: move it from one count of the status filter to the other. */
function recount(from, to) {
  for (const [status, delta] of [[from, -1], [to, 1]]) {
    const count = document.querySelector(`#status-filter [data-status="${status}"] .count`);
    if (count) count.textContent = String(Math.max(0, Number(count.textContent) + delta));
  }
}

document.getElementById("view-toggle").addEventListener("click", (event) => {
  const link = event.target.closest("[data-view]");
  if (!link) return;
  event.preventDefault();
  setView(link.dataset.view);
});
if (!new URL(location.href).searchParams.get("view") && localStorage.getItem("film-page-view") === "strip") setView("strip");

// ---- batch restore ----

async function restore(shots) {
  const preset = document.getElementById("restore-preset").value;
  const buttons = [document.getElementById("restore-selected"), document.getElementById("restore-all")];
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const job = await api(`/api/films/${filmId}/restore/`, {
      method: "POST", body: { shots, preset }, quiet: true, idempotent: true });
    const count = shots === "all" ? cards().length : shots.length;
    toast(`Batch job #${job?.id ?? ""} queued for ${shots === "all" ? "all shots" : `${count} shot${count === 1 ? "" : "s"}`} (preset ${preset}). Progress shows on the cards and on the Jobs page.`,
      { kind: "ok", title: "Restoration started" });
    selected.clear();
  } catch (error) {
    const message = error.status === 404 || error.status === 405
      ? "Batch restore is not available on this server yet."
      : error.message;
    toast(message, { kind: "error", title: "Could not start the restoration" });
  } finally {
    buttons[1].disabled = false;
    renderSelection();
  }
}

if (canRestore) {
  document.getElementById("restore-selected").addEventListener("click", () => {
    if (selected.size) restore([...selected].map(Number));
  });
  // A whole film is hundreds of GPU jobs: ask first.
  const confirmAll = document.getElementById("confirm-restore-all");
  document.getElementById("restore-all").addEventListener("click", () => {
    confirmAll.querySelector('[data-role="preset"]').textContent = document.getElementById("restore-preset").value;
    confirmAll.returnValue = "";
    confirmAll.showModal();
  });
  confirmAll.addEventListener("close", () => {
    if (confirmAll.returnValue === "confirm") restore("all");
  });
}

// ---- analysing a scan (POST /api/films/<id>/analyse/): its shots show when the job ends ----

const analyseButtons = () => [...document.querySelectorAll("[data-analyse-asset]")];

function analysing(on) {
  for (const button of analyseButtons()) {
    button.disabled = on;
    button.textContent = on ? "Analysing…" : "Analyse";
  }
}

async function analyse(button) {
  analysing(true);
  try {
    const job = await api(`/api/films/${filmId}/analyse/`, {
      method: "POST", body: { asset: Number(button.dataset.analyseAsset) }, quiet: true, idempotent: true });
    toast(`Analysis job #${job.id} started: the shots show here when it ends (also on the Jobs page).`,
      { kind: "ok", title: "Analysing the scan" });
  } catch (error) {
    toast(error.message, { kind: "error", title: "Could not analyse the scan" });
    analysing(false);
  }
}

// The film's socket tells when an analysis ends (whoever started it): its shots are new cards.
function analysisFinished(job) {
  if (job.status === "succeeded") {
    location.reload();
    return;
  }
  toast(job.error || job.message || `The job ended ${job.status}.`, { kind: "error", title: "The analysis did not finish" });
  analysing(false);
}

analyseButtons().forEach((button) => {
  button.addEventListener("click", () => analyse(button));
});

// ---- live review session of the selected shots (or of all shown) ----

async function startSession(button) {
  const chosen = selected.size ? cards().filter((card) => selected.has(card.dataset.shotId)) : cards();
  const withVersions = chosen.filter((card) => card.dataset.versionId);
  if (!withVersions.length) {
    toast("None of these shots has a version to review yet.", { kind: "warn" });
    return;
  }
  const numbers = withVersions.map((card) => card.dataset.number);
  const title = `${container.dataset.filmTitle}: shot${numbers.length === 1 ? "" : "s"} ${numbers.join(", ")}`.slice(0, 200);
  button.disabled = true;
  try {
    const session = await api("/api/sessions/", {
      method: "POST", quiet: true,
      body: { film: Number(filmId), title, versions: withVersions.map((card) => Number(card.dataset.versionId)) },
    });
    location.href = session.url ?? `/sessions/${session.id}/`;
  } catch (error) {
    toast(error.message, { kind: "error", title: "Could not start the session" });
    button.disabled = false;
  }
}

const sessionButton = document.getElementById("start-session");
sessionButton?.addEventListener("click", () => startSession(sessionButton));

// ---- live events ----

function setStatus(card, status, { count = true } = {}) {
  if (count && card.dataset.status !== status) recount(card.dataset.status, status);
  card.dataset.status = status;
  const pill = card.querySelector('[data-role="status"]');
  pill.className = `status status-${status}`;
  pill.textContent = STATUS_LABELS[status] ?? status;
}

function showJob(card, state, finished) {
  const bar = card.querySelector(".job-progress");
  if (finished) {
    bar.hidden = true;
    if (state.status === "failed") {
      toast(state.error || "The job failed.", { kind: "error", title: `Shot ${card.querySelector(".shot-number").textContent}: restoration failed` });
    }
    return;
  }
  bar.hidden = false;
  bar.querySelector(".bar").style.width = `${Math.round((state.progress ?? 0) * 100)}%`;
  bar.title = state.frames_total ? `${state.frames_done} / ${state.frames_total} frames` : "";
}

const indicator = document.getElementById("live-indicator");
const socket = new ReconnectingSocket(`ws/films/${filmId}/`);
socket.addEventListener("open", () => {
  indicator.classList.add("on");
  indicator.querySelector(".live-text").textContent = "Live";
});
socket.addEventListener("close", (event) => {
  indicator.classList.remove("on");
  indicator.querySelector(".live-text").textContent = event.detail.final ? "Offline" : "Reconnecting…";
});
socket.addEventListener("resync", () => resync());
socket.addEventListener("message", (event) => {
  const data = event.detail;
  if (data.kind === "analyse" && data.type === "job.finished") analysisFinished(data);
  const card = data.shot ? cardOf(data.shot) : null;
  if (!card) return;
  if (data.type === "job.progress" || data.type === "job.state") showJob(card, data, false);
  else if (data.type === "job.finished") showJob(card, data, true);
  else if (data.type === "shot.status") setStatus(card, data.status);
  else if (data.type === "version.created") {
    card.dataset.versionId = String(data.version);
    card.querySelector('[data-role="version"]').textContent = `v${data.number}`;
  }
});

// ---- catching up after a resync ----

let resyncing = null;

async function resync() {
  if (resyncing) return resyncing;
  resyncing = (async () => {
    const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .catch(() => null);
    if (response?.ok) {
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const card of cards()) {
        const now = fresh.querySelector(`.shot[data-shot-id="${card.dataset.shotId}"]`);
        if (!now) continue;
        setStatus(card, now.dataset.status, { count: false });
        card.dataset.versionId = now.dataset.versionId;
        card.querySelector('[data-role="version"]').textContent = now.querySelector('[data-role="version"]').textContent;
      }
      for (const count of document.querySelectorAll("#status-filter [data-status] .count")) {
        const now = fresh.querySelector(`#status-filter [data-status="${count.parentElement.dataset.status}"] .count`);
        if (now) count.textContent = now.textContent;
      }
    }
    const jobs = await api(`/api/jobs/?film=${filmId}&status=pending&status=running&page_size=200`, { quiet: true })
      .catch(() => null);
    if (jobs) {
      const running = new Map(jobs.results.filter((job) => job.shot != null).map((job) => [String(job.shot), job]));
      for (const card of cards()) {
        const job = running.get(card.dataset.shotId);
        if (job) showJob(card, job, false);
        else card.querySelector(".job-progress").hidden = true;
      }
    }
  })().finally(() => { resyncing = null; });
  return resyncing;
}
