// The colour panel of the shot review page and the live session page: which grade applies to the
// shot (approved / current, its source, a fit's held-out CIEDE2000), the shot's grade history, the
// CDL controls (slope, offset, power per channel, saturation) previewed live on the viewer's
// canvas through the WebGL2 renderer (grade-gl.js) as a per-side display transform, so wipe,
// toggle, side by side and difference compare looks; scopes of the picture on screen; "Save as
// new grade" (restorers, archivists) and sign-off (whoever the grade's summary says can decide).
//
//   const panel = mountColourPanel(element, {viewer, shotId, filmId, role, editable?, socket?, gradeId?})
//   panel.cdl, panel.setCdl(cdl, {silent}), panel.addEventListener("cdlchange", ...), panel.destroy()
//
// The API enforces who may do what; the panel only hides what the user cannot do. The film's
// socket (ws/films/<id>/) relays grade.created and grade.decided: the panel reloads on them.

import { api } from "../common/api.js";
import { escapeHtml, relativeTime } from "../common/format.js";
import { toastError, toastOk } from "../common/toast.js";
import { ReconnectingSocket } from "../common/ws.js";
import { GradeRenderer, webgl2Available } from "./grade-gl.js";
import { cdlCheck, cdlEquals, cloneCdl, IDENTITY_CDL, identityLut, parseLut } from "./grade-math.js";
import { drawScope, SCOPES } from "./scopes.js";

export const LOOKS = { none: "No grade", approved: "Approved grade", current: "Proposed grade", edit: "Adjusted (live)" };
const STATUS = { proposed: "Proposed", changes_requested: "Changes requested", approved: "Approved", rejected: "Rejected" };
const SOURCE = { fit: "learned from stills", manual: "by hand", import: "imported" };
const VERDICTS = {
  approve: { label: "Approve", button: "primary" },
  changes_requested: { label: "Request changes", button: "" },
  reject: { label: "Reject", button: "danger" },
};
// The sliders' span (the number inputs take the engine's whole range, grade-math.js CDL_LIMITS).
const CONTROLS = {
  slope: { min: 0, max: 3, step: 0.001, limit: [0, 100] },
  offset: { min: -0.5, max: 0.5, step: 0.001, limit: [-10, 10] },
  power: { min: 0.2, max: 3, step: 0.001, limit: [0.001, 100] },
  saturation: { min: 0, max: 3, step: 0.001, limit: [0, 100] },
};
const CHANNELS = ["R", "G", "B"];
const EDITORS = new Set(["restorer", "archivist", "staff"]);
const SCOPE_INTERVAL_MS = 120;

const luts = new Map(); // grade id -> Promise of a parsed LUT (a grade never changes)

/** A grade's LUT (identity without one), fetched once: GET /api/grades/<id>/lut/ parsed with DataView. */
export function gradeLut(grade) {
  if (!grade?.has_lut) return Promise.resolve(identityLut(2));
  if (!luts.has(grade.id)) {
    const request = fetch(`/api/grades/${grade.id}/lut/`, { credentials: "same-origin" }).then(async (response) => {
      if (!response.ok) throw new Error(`LUT of grade ${grade.id}: HTTP ${response.status}`);
      return parseLut(await response.arrayBuffer());
    });
    request.catch(() => luts.delete(grade.id));
    luts.set(grade.id, request);
  }
  return luts.get(grade.id);
}

const fmt = (value) => String(Number(Number(value).toFixed(4)));
const gradeName = (grade) => `Grade ${grade.number}${grade.scene_name ? ` (scene ${grade.scene_name})` : ""}`;

function heldOut(grade) {
  const holdout = grade?.report?.holdout;
  if (!holdout) return "";
  const which = grade.report.lut && holdout.cdl_lut ? holdout.cdl_lut : holdout.cdl;
  return which && Number.isFinite(which.mean) ? `held-out ΔE00 ${which.mean.toFixed(2)} (p95 ${which.p95?.toFixed(2)})` : "";
}

function controlRow(key, channel, index) {
  const spec = CONTROLS[key];
  const name = channel ? `${key}-${index}` : key;
  const label = channel ? `${key[0].toUpperCase()}${key.slice(1)} ${channel}` : "Saturation";
  return `<div class="cl-control" data-key="${key}" data-index="${index}">
    <label for="cl-${name}" class="cl-control-label small">${channel ? `<span class="cl-ch cl-ch-${channel}">${channel}</span>` : "Sat"}</label>
    <input type="range" id="cl-${name}" data-control="${name}" aria-label="${label}"
      min="${spec.min}" max="${spec.max}" step="${spec.step}">
    <input type="number" class="cl-number" data-number="${name}" aria-label="${label} value"
      min="${spec.limit[0]}" max="${spec.limit[1]}" step="${spec.step}">
  </div>`;
}

export function mountColourPanel(panel, { viewer, shotId, filmId, role = null, editable = null, socket = null,
  frameOf = null, gradeId = null }) {
  const events = new EventTarget();
  const canEdit = editable ?? EDITORS.has(role);
  const gl = webgl2Available();
  let applies = { approved: null, current: null };
  let history = [];
  let base = null; // the grade the adjusted look starts from (its LUT is kept)
  let cdl = cloneCdl(IDENTITY_CDL);
  let summary = null;
  let loading = 0;
  let shared = false; // the CDL shown is a live session host's: loading the grades keeps it
  const looks = { a: "none", b: "edit" };
  const lutOf = new Map(); // grade id -> parsed LUT, once loaded
  const renderers = { a: null, b: null };

  panel.classList.add("cl-panel");
  panel.dataset.loaded = "false"; // set when this panel's grades are in (the element may be reused)
  panel.innerHTML = `
    <div class="cl-head">
      <h2 class="review-panel-title">Colour</h2>
      <span class="status" data-grade-status hidden></span>
    </div>
    <p class="cl-applies small" data-applies>Loading…</p>
    ${gl ? "" : '<p class="cl-warning small">This browser has no WebGL2: grades cannot be previewed here.</p>'}
    <div class="cl-looks">
      <label class="small">A shows <select data-look="a">${Object.entries(LOOKS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></label>
      <label class="small">B shows <select data-look="b">${Object.entries(LOOKS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></label>
      <button type="button" class="btn ghost sm" data-same-picture title="Compare looks on the same picture">Same picture A/B</button>
    </div>
    <fieldset class="cl-cdl">
      <legend class="small">ASC CDL <span class="faint" data-base></span></legend>
      <div class="cl-group"><span class="cl-group-name small">Slope</span>${CHANNELS.map((c, i) => controlRow("slope", c, i)).join("")}</div>
      <div class="cl-group"><span class="cl-group-name small">Offset</span>${CHANNELS.map((c, i) => controlRow("offset", c, i)).join("")}</div>
      <div class="cl-group"><span class="cl-group-name small">Power</span>${CHANNELS.map((c, i) => controlRow("power", c, i)).join("")}</div>
      <div class="cl-group">${controlRow("saturation", null, 0)}</div>
    </fieldset>
    <div class="cl-actions">
      <button type="button" class="btn ghost sm" data-reset>Reset to grade</button>
      ${canEdit ? `<input type="text" class="cl-note" data-save-note maxlength="500" placeholder="Note (optional)" aria-label="Note for the new grade">
      <button type="button" class="btn sm" data-save>Save as new grade</button>` : ""}
    </div>
    <div class="cl-scopes">
      <label class="small">Scope <select data-scope-kind>${Object.entries(SCOPES).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></label>
      <canvas class="cl-scope" width="256" height="256" role="img" aria-label="Scope of the picture on screen"></canvas>
    </div>
    <div class="cl-signoff" data-signoff></div>
    <details class="cl-history">
      <summary class="small">Grades of this shot <span class="count" data-history-count>0</span></summary>
      <ol data-history></ol>
    </details>`;
  const q = (selector) => panel.querySelector(selector);
  const scopeCanvas = q(".cl-scope");
  for (const side of ["a", "b"]) q(`[data-look=${side}]`).value = looks[side];
  // Anyone may try a look on their own screen; saving it is for restorers and archivists.

  // ---- the preview: a display transform per side ----

  function lookGrade(look) {
    if (look === "approved") return applies.approved;
    if (look === "current") return applies.current;
    return null;
  }

  function lookValues(look) {
    if (look === "none") return null;
    if (look === "edit") {
      const lut = base ? lutOf.get(base.id) : identityLut(2);
      return lut ? { cdl, lut } : undefined;
    }
    const grade = lookGrade(look);
    if (!grade) return null;
    const lut = lutOf.get(grade.id);
    return lut ? { cdl: grade.cdl, lut } : undefined;
  }

  function ensureLut(grade) {
    if (!grade || lutOf.has(grade.id)) return;
    gradeLut(grade).then((lut) => { lutOf.set(grade.id, lut); viewer?.redraw(); }).catch((error) => console.warn(error));
  }

  function transformFor(side) {
    return (bitmap) => {
      const values = lookValues(looks[side]);
      if (!values) return bitmap; // no grade, or its LUT still on its way
      try {
        renderers[side] ??= new GradeRenderer();
        return renderers[side].render(bitmap, values);
      } catch (error) {
        console.warn("grade preview:", error);
        return bitmap;
      }
    };
  }

  function applyLooks() {
    if (!viewer || !gl) return;
    for (const side of ["a", "b"]) {
      viewer.setDisplayTransform(side, looks[side] === "none" ? null : transformFor(side));
    }
    panel.dataset.lookA = looks.a;
    panel.dataset.lookB = looks.b;
  }

  // ---- scopes: from what was just drawn, throttled ----

  let scopeTimer = null;
  let lastPictures = null;
  function scheduleScope() {
    if (scopeTimer) return;
    scopeTimer = setTimeout(() => {
      scopeTimer = null;
      if (!lastPictures) return;
      const state = viewer.state;
      const picture = state.mode === "toggle" && state.showing === "a" ? lastPictures.a : lastPictures.b ?? lastPictures.a;
      if (picture) drawScope(scopeCanvas, picture, q("[data-scope-kind]").value);
    }, SCOPE_INTERVAL_MS);
  }
  const onRender = (event) => {
    lastPictures = event.detail;
    scheduleScope();
  };
  viewer?.addEventListener("render", onRender);
  q("[data-scope-kind]").addEventListener("change", () => { scheduleScope(); });

  // ---- the CDL controls ----

  function showCdl() {
    for (const key of ["slope", "offset", "power"]) {
      for (let i = 0; i < 3; i += 1) {
        q(`[data-control="${key}-${i}"]`).value = cdl[key][i];
        const number = q(`[data-number="${key}-${i}"]`);
        if (document.activeElement !== number) number.value = fmt(cdl[key][i]);
      }
    }
    q('[data-control="saturation"]').value = cdl.saturation;
    const number = q('[data-number="saturation"]');
    if (document.activeElement !== number) number.value = fmt(cdl.saturation);
    const changed = base ? !cdlEquals(cdl, base.cdl) : !cdlEquals(cdl, IDENTITY_CDL);
    panel.dataset.edited = changed ? "true" : "false";
    const save = q("[data-save]");
    if (save) save.disabled = !changed && Boolean(base);
  }

  function setValue(name, value, { silent = false } = {}) {
    const [key, index] = name.split("-");
    const [low, high] = CONTROLS[key].limit;
    if (!Number.isFinite(value)) return;
    const clamped = Math.min(Math.max(value, low), high);
    if (key === "saturation") cdl.saturation = clamped;
    else cdl[key][Number(index)] = clamped;
    changed({ silent });
  }

  function changed({ silent = false } = {}) {
    showCdl();
    if (looks.a === "edit" || looks.b === "edit") viewer?.redraw();
    if (!silent) events.dispatchEvent(new CustomEvent("cdlchange", { detail: cloneCdl(cdl) }));
  }

  panel.querySelector(".cl-cdl").addEventListener("input", (event) => {
    const target = event.target;
    if (target.dataset.control) setValue(target.dataset.control, Number(target.value));
    else if (target.dataset.number && target.value !== "") setValue(target.dataset.number, Number(target.value));
  });
  panel.querySelector(".cl-cdl").addEventListener("change", () => showCdl());
  // A slider's arrow keys move the slider, not the viewer's playhead (which listens on the document).
  panel.addEventListener("keydown", (event) => {
    if (event.target.matches?.("input[type=range]") && /^(Arrow|Page|Home|End)/.test(event.key)) event.stopPropagation();
  });

  q("[data-reset]").addEventListener("click", () => {
    cdl = cloneCdl(base?.cdl ?? IDENTITY_CDL);
    changed();
  });

  for (const side of ["a", "b"]) {
    q(`[data-look=${side}]`).addEventListener("change", (event) => {
      looks[side] = event.target.value;
      applyLooks();
    });
  }
  q("[data-same-picture]").addEventListener("click", () => {
    if (!viewer) return;
    const state = viewer.state;
    const picture = state.b;
    viewer.setState({ a: picture, b: picture, mode: state.mode === "side" ? "wipe" : state.mode });
    if (looks.a === looks.b) {
      looks.a = applies.approved ? "approved" : "none";
      q("[data-look=a]").value = looks.a;
      applyLooks();
    }
  });

  q("[data-save]")?.addEventListener("click", async () => {
    const error = cdlCheck(cdl);
    if (error) { toastError(error.message); return; }
    const button = q("[data-save]");
    button.disabled = true;
    const body = { cdl: cloneCdl(cdl), note: q("[data-save-note]").value.trim() };
    if (base?.scene && !base?.shot) body.scene = base.scene;
    else body.shot = shotId;
    if (base) { body.parent = base.id; body.keep_lut = true; }
    try {
      const grade = await api("/api/grades/", { method: "POST", body, idempotent: true });
      toastOk(`${gradeName(grade)} saved: proposed for sign-off.`);
      q("[data-save-note]").value = "";
      await load({ baseId: grade.id });
    } catch {
      button.disabled = false;
    }
  });

  // ---- sign-off ----

  function renderSignoff() {
    const box = q("[data-signoff]");
    const grade = applies.current;
    if (!grade || !summary) { box.innerHTML = ""; return; }
    const required = summary.required_roles || [];
    const roleLine = (r) => {
      const mine = (summary.current || []).filter((d) => d.role === r);
      const worst = ["reject", "changes_requested", "approve"].find((v) => mine.some((d) => d.verdict === v));
      const css = worst === "approve" ? "approved" : worst === "reject" ? "rejected" : worst || "pending";
      const text = worst ? { approve: "Approved", reject: "Rejected", changes_requested: "Changes requested" }[worst] : "Waiting";
      return `<li class="cl-role" data-role="${r}"><span>${escapeHtml(r)}</span><span class="status status-${css}">${text}</span></li>`;
    };
    box.innerHTML = `
      <h3 class="cl-subtitle small">Sign-off · ${escapeHtml(gradeName(grade))}</h3>
      <ul class="cl-roles">${required.map(roleLine).join("")}</ul>
      ${(summary.unfilled_roles || []).length ? `<p class="cl-unfilled small" role="note">No ${escapeHtml(summary.unfilled_roles.join(" or "))}
        is a member of this film: no grade is approved until an archivist invites one or changes the approval policy.</p>` : ""}
      ${summary.can_decide ? `<form class="cl-decide" novalidate>
        <textarea name="note" rows="2" maxlength="5000" placeholder="Note (needed to request changes)" aria-label="Note on the grade"></textarea>
        <div class="cl-buttons">${Object.entries(VERDICTS).map(([verdict, v]) =>
          `<button type="button" class="btn sm ${v.button}" data-grade-verdict="${verdict}">${v.label}</button>`).join("")}</div>
        <span class="cl-error small" role="alert"></span>
      </form>` : `<p class="cl-reason muted small">${escapeHtml(summary.reason || "")}</p>`}`;
  }

  q("[data-signoff]").addEventListener("click", async (event) => {
    const button = event.target.closest("[data-grade-verdict]");
    if (!button) return;
    const form = button.closest("form");
    const verdict = button.dataset.gradeVerdict;
    const note = form.elements.note.value.trim();
    const grade = applies.current;
    const error = form.querySelector(".cl-error");
    if (verdict === "changes_requested" && !note) {
      error.textContent = "Say what to change (the note is sent with this frame).";
      form.elements.note.focus();
      return;
    }
    const body = { grade: grade.id, verdict, note };
    if (verdict === "changes_requested") {
      body.frame = frameOf ? frameOf() : viewer?.frame ?? 0;
      if (grade.scene && !grade.shot) body.shot = shotId;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const decision = await api("/api/grade-decisions/", { method: "POST", body, quiet: true, idempotent: true });
      toastOk(`${gradeName(grade)}: ${VERDICTS[decision.verdict]?.label.toLowerCase() || decision.verdict} recorded.`);
      await load();
    } catch (failure) {
      error.textContent = failure.message;
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  });

  // ---- loading ----

  function render() {
    const { approved, current } = applies;
    const pill = q("[data-grade-status]");
    if (current) {
      pill.hidden = false;
      pill.className = `status status-${current.status}`;
      pill.textContent = STATUS[current.status] || current.status;
    } else pill.hidden = true;
    const describe = (grade, from) => grade
      ? `<strong>${escapeHtml(gradeName(grade))}</strong> <span class="muted">${SOURCE[grade.source] || grade.source}${from === "scene" ? ", the scene's" : ""}${grade.has_lut ? ", CDL + LUT" : ", CDL"}</span>${heldOut(grade) ? ` <span class="faint" data-holdout>${escapeHtml(heldOut(grade))}</span>` : ""}`
      : '<span class="muted">none</span>';
    q("[data-applies]").innerHTML = `
      <span class="cl-applies-line">Approved: ${describe(approved, applies.approved_from)}</span>
      <span class="cl-applies-line">Current: ${describe(current, applies.current_from)}</span>`;
    q("[data-base]").textContent = base ? `from ${gradeName(base)}${base.has_lut ? " (its LUT kept)" : ""}` : "from no grade";
    q("[data-history-count]").textContent = String(history.length);
    q("[data-history]").innerHTML = history.map((grade) => `
      <li class="cl-grade" data-grade-id="${grade.id}">
        <button type="button" class="btn ghost sm" data-load-grade="${grade.id}" title="Adjust from this grade">${escapeHtml(gradeName(grade))}</button>
        <span class="status status-${grade.status}">${STATUS[grade.status] || grade.status}</span>
        <span class="muted small">${SOURCE[grade.source] || grade.source} · ${escapeHtml(grade.author_username || "")}</span>
        <time class="faint small" datetime="${grade.created_at}">${relativeTime(grade.created_at)}</time>
        ${grade.note ? `<p class="cl-grade-note small">${escapeHtml(grade.note)}</p>` : ""}
      </li>`).join("");
    renderSignoff();
    showCdl();
  }

  q("[data-history]").addEventListener("click", (event) => {
    const button = event.target.closest("[data-load-grade]");
    if (!button) return;
    const grade = history.find((g) => g.id === Number(button.dataset.loadGrade));
    if (!grade) return;
    base = grade;
    ensureLut(base);
    cdl = cloneCdl(grade.cdl);
    render();
    changed();
  });

  async function load({ baseId = null } = {}) {
    const ticket = ++loading;
    try {
      const [which, list] = await Promise.all([
        api(`/api/shots/${shotId}/grade/`, { quiet: true }),
        api(`/api/grades/?shot=${shotId}&ordering=-number&page_size=100`, { quiet: true }),
      ]);
      const current = which.current;
      const currentSummary = current ? await api(`/api/grades/${current.id}/summary/`, { quiet: true }) : null;
      if (ticket !== loading) return;
      applies = which;
      history = list.results ?? list;
      summary = currentSummary;
      const previousBase = base;
      const wanted = baseId ?? previousBase?.id;
      base = [...history, current, which.approved].find((g) => g && g.id === wanted) || current || which.approved || null;
      // A look adjusted while the grades were loading is kept (it was made from the identity).
      const untouched = cdlEquals(cdl, previousBase?.cdl ?? IDENTITY_CDL);
      if (baseId || (!shared && untouched)) cdl = cloneCdl(base?.cdl ?? IDENTITY_CDL);
      for (const grade of [which.approved, current, base]) ensureLut(grade);
      render();
      panel.dataset.loaded = "true";
      panel.dataset.currentGrade = current ? String(current.id) : "";
      panel.dataset.currentStatus = current ? current.status : "";
      viewer?.redraw();
    } catch (error) {
      if (ticket === loading) q("[data-applies]").textContent = `Grades could not be loaded: ${error.message}`;
    }
  }

  // ---- live: the film's socket ----

  const filmSocket = socket ?? (filmId ? new ReconnectingSocket(`ws/films/${filmId}/`) : null);
  const onMessage = (event) => {
    const message = event.detail;
    if (message?.type === "grade.created" || message?.type === "grade.decided") load();
  };
  const onResync = () => load();
  filmSocket?.addEventListener("message", onMessage);
  filmSocket?.addEventListener("resync", onResync);

  applyLooks();
  load({ baseId: gradeId }); // a notification's link (?grade=<id>) opens on that grade

  // Getters stay getters (Object.assign would copy their values once).
  Object.defineProperties(events, {
    cdl: { get: () => cloneCdl(cdl) },
    base: { get: () => base },
  });
  return Object.assign(events, {
    /** Show another CDL (a live session's host's); `silent` does not announce it back. */
    setCdl(next, { silent = true } = {}) {
      if (cdlCheck(next)) return;
      cdl = cloneCdl(next);
      changed({ silent });
    },
    /**
     * A live session's shared look ({cdl, base: grade id | null}, webapp/live/messages.py): its
     * base grade's LUT (when this user may fetch it) after its CDL. Announces nothing.
     */
    async setShared(look) {
      if (!look || cdlCheck(look.cdl)) return;
      shared = true;
      if (look.base && look.base !== base?.id) {
        const known = [...history, applies.current, applies.approved].find((g) => g && g.id === look.base);
        const grade = known || await api(`/api/grades/${look.base}/`, { quiet: true }).catch(() => null);
        if (grade) { base = grade; ensureLut(grade); }
      }
      cdl = cloneCdl(look.cdl);
      render();
      changed({ silent: true });
    },
    reload: load,
    renderer: (side) => renderers[side],
    destroy() {
      loading++;
      clearTimeout(scopeTimer);
      viewer?.removeEventListener("render", onRender);
      filmSocket?.removeEventListener("message", onMessage);
      filmSocket?.removeEventListener("resync", onResync);
      if (!socket) filmSocket?.close?.();
      for (const side of ["a", "b"]) { viewer?.setDisplayTransform(side, null); renderers[side]?.destroy(); }
    },
  });
}
