// The live review session page: one shared ComparisonViewer state for everyone in the session.
//
// The host's viewer actions (statechange events) are sent to ws/sessions/<id>/, throttled; every
// participant applies the shared state it hears with setState(..., {silent: true}), so nothing is
// echoed back. While playing, the state says from which frame and at what server time playback
// started, and followers extrapolate the playhead from their estimate of the server clock.
// A follower who steps or zooms on their own stops following until they press "Follow host".
//
// Beside the viewer, the review app's comments panel (review/comments.js) on the current playlist
// item's version, for every participant, guests included: comments with drawings and replies go
// through the API like on the shot page, and arrive live through ws/sessions/<id>/shots/<shot>/
// (the session's own shot socket, which admits guests for the shots of the playlist).
// Members also get the review app's decisions panel (review/decisions.js) on that version: the
// approval labels and history, and approve / request changes / reject for the film's archivists and
// creators, posted to the API like on the shot page. Everyone, guests included, sees the version's
// status beside its name, from the shot socket's first message (playlist.versions) and then live
// from every decision.recorded, wherever the decision was made.

import { api } from "../common/api.js";
import { escapeHtml } from "../common/format.js";
import { toast } from "../common/toast.js";
import { ReconnectingSocket } from "../common/ws.js";
import { ComparisonViewer } from "../viewer/viewer.js";
import { mountComments } from "../review/comments.js";
import { mountDecisions, STATUS_LABELS } from "../review/decisions.js";
import { mountColourPanel } from "../colour/colour-panel.js";
import { renderParticipants } from "./presence.js";

const HEARTBEAT_MS = 15000;
const SEND_THROTTLE_MS = 60;
const SHARED_KEYS = ["a", "b", "mode", "wipe", "showing", "zoom", "pan_x", "pan_y"];

const root = document.getElementById("live-session");
const sessionId = Number(root.dataset.session);
const el = {
  playlist: document.getElementById("live-playlist-items"),
  viewer: document.getElementById("live-viewer"),
  itemLabel: document.getElementById("live-item-label"),
  follow: document.getElementById("live-follow"),
  requestControl: document.getElementById("live-request-control"),
  takeControl: document.getElementById("live-take-control"),
  participants: document.getElementById("live-participants"),
  count: document.getElementById("live-count"),
  comments: document.getElementById("live-comments"),
  decisions: document.getElementById("live-decisions"), // members only
  colour: document.getElementById("live-colour"),
  itemStatus: document.getElementById("live-item-status"),
};

const live = {
  playlist: [],
  state: null, // the last shared state heard (highest version)
  participants: [],
  you: null,
  clockOffset: 0, // server time minus local time, in ms
  following: true,
  viewer: null,
  viewerIndex: null,
  comments: null, // the comments panel of the item shown, and its event socket
  commentEvents: null,
  decisions: null, // the decisions panel of the item shown (members)
  colour: null, // the colour panel of the item shown; its look is shared state (`grade`)
  film: null,
  gradeToSend: undefined, // the host's look not yet sent
  versionStatus: new Map(), // version id -> status, as the shot socket last told
  commentsLocked: null, // why the comment box is closed (a guest's invitation ended), or null
  requests: new Set(), // user ids who asked the host for control
  ended: false,
};

const isHost = () => live.state && live.you && live.state.host === live.you.user;
const serverNow = () => Date.now() + live.clockOffset;

// ---- the socket -----------------------------------------------------------------------------

const socket = new ReconnectingSocket(`ws/sessions/${sessionId}/`);
socket.addEventListener("message", (event) => onMessage(event.detail));
socket.addEventListener("close", (event) => {
  if (event.detail.code === 4410) return showEnded();
  if (event.detail.final) {
    setFollow("gone", event.detail.code === 4403 ? "Your invitation is no longer valid." : "You cannot join this session.");
    lockComments(event.detail.code === 4403 ? "Your invitation is no longer valid." : "You cannot comment here.");
  } else if (!live.ended) {
    setFollow("connecting", "Reconnecting…");
  }
});
setInterval(() => { if (socket.connected) socket.send({ type: "heartbeat" }); }, HEARTBEAT_MS);

function onMessage(message) {
  if (message.server_time) live.clockOffset = message.server_time - Date.now();
  switch (message.type) {
    case "session.state": {
      // A state older than the one we hold: the server lost it (Redis restarted empty) and began
      // again; the host puts back where everyone was.
      const restore = live.state && live.viewer && message.state.version < live.state.version && isHost()
        ? { index: live.state.index, ...sharedOf(live.viewer.state) } : null;
      live.playlist = message.playlist;
      rememberPlaylistStatuses();
      live.you = message.you;
      live.film = message.session?.film ?? null;
      live.frameNumberStart = message.session?.frame_number_start ?? 0; // the film's numbering
      live.participants = message.participants;
      live.state = null;
      renderPlaylist();
      applyShared(message.state, { force: true });
      renderPresence();
      if (restore && isHost()) {
        lastSent = null;
        socket.send({ type: "state", changes: restore });
      }
      break;
    }
    case "state":
      applyShared(message.state, { by: message.by });
      break;
    case "presence":
      live.participants = message.participants;
      renderPresence();
      break;
    case "control.requested":
      if (isHost() && message.user.user !== live.you.user) {
        live.requests.add(message.user.user);
        renderPresence();
        toast(`${message.user.name} asks for control.`, { title: "Control requested" });
      }
      break;
    case "session.ended":
      showEnded();
      break;
    case "error":
      toast(message.detail, { kind: "error", title: "Session" });
      break;
    default:
      break;
  }
}

// ---- applying the shared state --------------------------------------------------------------

function playheadOf(state, item) {
  if (!state.playing || state.started_at == null) return state.frame;
  const elapsed = Math.max(0, serverNow() - state.started_at);
  return Math.min(item.frame_count - 1, state.frame + Math.floor((elapsed * item.fps) / 1000));
}

function viewerStateOf(state, item) {
  return {
    a: state.a, b: state.b, mode: state.mode, wipe: state.wipe, showing: state.showing, zoom: state.zoom,
    panX: state.pan_x, panY: state.pan_y, frame: playheadOf(state, item), playing: state.playing,
  };
}

function applyShared(state, { force = false, by = null } = {}) {
  if (!force && live.state && state.version <= live.state.version) return; // late or duplicate
  const previous = live.state;
  live.state = state;
  if (previous && previous.host !== state.host) {
    live.following = true;
    live.requests.clear();
    if (state.host === live.you.user) toast("You have control: the others follow you.", { kind: "ok" });
  }
  renderControl();
  renderPresence();
  markCurrentItem();
  // The host's own changes come back as an echo: its viewer already shows them.
  if (by === live.you.user && isHost() && live.viewerIndex === state.index) return;
  if (!force && !isHost() && !live.following) return;
  showState(state);
}

function showState(state) {
  const item = live.playlist[state.index];
  if (live.viewerIndex !== state.index) mountViewer(item, state);
  const viewer = live.viewer;
  const target = viewerStateOf(state, item);
  // A new playback start (or a seek while playing) restarts the viewer's clock from the new frame.
  if (target.playing && viewer.state.playing) viewer.setState({ playing: false }, { silent: true });
  viewer.setState(target, { silent: true });
  lastSent = sharedOf(viewer.state);
  // The look the host is adjusting: followers see it as it moves (the host's own panel has it).
  if (state.grade && !isHost() && live.colour) live.colour.setShared(state.grade);
}

function mountViewer(item, state) {
  live.viewer?.destroy();
  live.viewerIndex = state.index;
  el.itemLabel.textContent = `Shot ${item.shot_number} · v${item.version_number} · ${item.frame_count} frames`;
  live.viewer = new ComparisonViewer(el.viewer, {
    shotId: item.shot, frameCount: item.frame_count, fps: item.fps, sources: item.sources,
    a: state.a, b: state.b, frame: state.frame, mode: state.mode, socketUrl: item.frames_socket || null,
    // The numbering the shot's review page shows (a scan's own file numbers and timecode, or the film's).
    startNumber: item.start_number ?? live.frameNumberStart, timecodeStart: item.timecode_start ?? 0,
    numberedBy: item.scan_numbers ? "scan" : "film", timecodeOf: item.scan_timecode ? "scan" : "film",
    annotatedSource: `v${item.version_number}`, // the version on screen: comments and drawings are filed on it
    snapshotName: `shot ${item.shot_number}`, // a downloaded frame's file name
  });
  el.viewer.comparisonViewer = live.viewer; // for tests and tools
  live.viewer.addEventListener("statechange", () => onLocalChange());
  mountItemComments(item);
}

// ---- comments and decisions on the item shown ---------------------------------------------------

function mountItemComments(item) {
  live.comments?.destroy();
  live.decisions?.destroy();
  live.colour?.destroy();
  live.colour = null;
  live.commentEvents?.close();
  el.comments.dataset.versionId = String(item.version);
  live.commentEvents = new ReconnectingSocket(`ws/sessions/${sessionId}/shots/${item.shot}/`);
  live.commentEvents.addEventListener("message", (event) => onShotEvent(item, event.detail));
  const versions = live.playlist.filter((other) => other.shot === item.shot)
    .map((other) => ({ id: other.version, number: other.version_number }));
  live.comments = mountComments(el.comments, {
    viewer: live.viewer, shotId: item.shot, versions, user: { id: live.you.user }, role: root.dataset.filmRole || null,
    events: live.commentEvents, exportable: !live.you.guest,
  });
  if (live.commentsLocked) live.comments.lock(live.commentsLocked);
  if (el.decisions) {
    el.decisions.dataset.versionId = String(item.version);
    live.decisions = mountDecisions(el.decisions, { shotId: item.shot, versions, events: live.commentEvents,
      viewer: live.viewer, draftDrawing: () => live.comments?.drawing?.drawing ?? null });
  }
  if (el.colour) {
    // Guests preview the host's look (the CDL; a base grade's LUT where the API lets them fetch it).
    live.colour = mountColourPanel(el.colour, {
      viewer: live.viewer, shotId: item.shot, filmId: live.you.guest ? null : live.film,
      role: root.dataset.filmRole || null, frameOf: () => live.viewer.frame,
    });
    live.colour.addEventListener("cdlchange", (event) => {
      if (!isHost()) return;
      live.gradeToSend = { cdl: event.detail, base: live.colour.base?.id ?? null };
      if (sendTimer === null) sendTimer = setTimeout(sendChanges, SEND_THROTTLE_MS);
    });
  }
  renderItemStatus(item);
}

// ---- the version's status, for everyone -------------------------------------------------------

function onShotEvent(item, message) {
  if (message.type === "playlist.versions") {
    for (const version of message.versions) live.versionStatus.set(version.version, version.status);
  } else if (message.type === "decision.recorded") {
    const { decision } = message;
    const before = live.versionStatus.get(decision.version);
    live.versionStatus.set(decision.version, message.version_status);
    // Someone else's decision on the version on screen: say so (the decider's panel already did).
    if (decision.version === item.version && decision.reviewer !== live.you.user && before !== message.version_status) {
      const label = (STATUS_LABELS[message.version_status] || message.version_status).toLowerCase();
      toast(`v${item.version_number} is now ${label}.`, { title: `Shot ${item.shot_number}` });
    }
  } else {
    return;
  }
  if (live.playlist[live.viewerIndex]?.version === item.version) renderItemStatus(item);
  renderPlaylistStatuses();
}

function renderPlaylistStatuses() {
  for (const chip of el.playlist.querySelectorAll(".live-item-status")) {
    const status = live.versionStatus.get(Number(chip.dataset.version));
    chip.hidden = !status;
    if (!status) continue;
    chip.className = `live-item-status status status-${status}`;
    chip.textContent = STATUS_LABELS[status] || status;
  }
}

function renderItemStatus(item) {
  const status = live.versionStatus.get(item.version);
  el.itemStatus.hidden = !status;
  if (!status) return;
  el.itemStatus.className = `status status-${status}`;
  el.itemStatus.textContent = STATUS_LABELS[status] || status;
  el.itemStatus.dataset.version = String(item.version);
}

function lockComments(reason) {
  live.commentsLocked = reason;
  live.commentEvents?.close();
  live.comments?.lock(reason);
}

// ---- the host's changes go out --------------------------------------------------------------

let lastSent = null;
let sendTimer = null;

function sharedOf(viewerState) {
  return {
    a: viewerState.a, b: viewerState.b, mode: viewerState.mode, wipe: viewerState.wipe,
    showing: viewerState.showing, zoom: viewerState.zoom, pan_x: viewerState.panX, pan_y: viewerState.panY,
    playing: viewerState.playing, frame: viewerState.frame,
  };
}

function onLocalChange() {
  if (!isHost()) {
    if (live.following) {
      live.following = false;
      renderControl();
    }
    return;
  }
  if (sendTimer === null) sendTimer = setTimeout(sendChanges, SEND_THROTTLE_MS);
}

function sendChanges() {
  sendTimer = null;
  if (!isHost() || !live.viewer) return;
  const now = sharedOf(live.viewer.state);
  const changes = {};
  for (const key of SHARED_KEYS) if (!lastSent || now[key] !== lastSent[key]) changes[key] = now[key];
  const playChanged = !lastSent || now.playing !== lastSent.playing;
  if (playChanged) changes.playing = now.playing;
  // While playing, followers run their own clock: only a start, a stop or a jump carries the frame.
  const jumped = lastSent && now.playing && Math.abs(now.frame - playheadOf(live.state, live.playlist[live.state.index])) > 2;
  if (!now.playing || playChanged || jumped) {
    if (!lastSent || now.frame !== lastSent.frame || playChanged || jumped) changes.frame = now.frame;
  }
  lastSent = now;
  if (live.gradeToSend !== undefined) {
    changes.grade = live.gradeToSend;
    live.gradeToSend = undefined;
  }
  if (Object.keys(changes).length) socket.send({ type: "state", changes });
}

// ---- playlist, presence, control ------------------------------------------------------------

// Each item's status when the session socket (re)connected, from its version's source; the shot
// sockets keep them current from then on (onShotEvent).
function rememberPlaylistStatuses() {
  for (const item of live.playlist) {
    const source = item.sources.find((s) => s.id === `v${item.version_number}`);
    if (source) live.versionStatus.set(item.version, source.status);
  }
}

function renderPlaylist() {
  el.playlist.innerHTML = live.playlist.map((item) => `
    <li><button type="button" class="live-item" data-index="${item.position}">
      <span class="live-item-title"><span class="live-item-shot">Shot ${item.shot_number}</span>
        <span class="live-item-version">v${item.version_number}</span></span>
      <span class="live-item-status status" data-version="${item.version}" hidden></span>
      <span class="live-item-frames small muted">${item.frame_count} fr · ${Number(item.fps).toFixed(item.fps % 1 ? 2 : 0)} fps</span>
    </button></li>`).join("");
  renderPlaylistStatuses();
  for (const button of el.playlist.querySelectorAll("button")) {
    button.addEventListener("click", () => {
      if (!isHost()) return toast("Only the host moves through the playlist.");
      socket.send({ type: "state", changes: { index: Number(button.dataset.index) } });
    });
  }
}

function markCurrentItem() {
  for (const button of el.playlist.querySelectorAll("button")) {
    const current = Number(button.dataset.index) === live.state.index;
    button.setAttribute("aria-current", current ? "true" : "false");
    button.disabled = !isHost() && !current;
  }
}

function renderPresence() {
  if (!live.state) return;
  el.count.textContent = String(live.participants.length);
  renderParticipants(el.participants, {
    participants: live.participants, hostId: live.state.host, youId: live.you.user, youAreHost: isHost(),
    requests: live.requests,
    onHandOver: (userId) => socket.send({ type: "control.hand_over", to: userId }),
  });
  renderControl();
}

function hostName() {
  const host = live.participants.find((p) => p.user === live.state.host);
  return host ? host.name : null;
}

function renderControl() {
  if (!live.state || live.ended) return;
  const hostHere = hostName();
  root.dataset.role = isHost() ? "host" : "follower";
  if (isHost()) setFollow("hosting", "You are hosting: everyone follows you");
  else if (!live.following) setFollow("detached", "Browsing on your own", true);
  else setFollow("following", hostHere ? `Following ${hostHere}` : "The host is away");
  el.requestControl.hidden = isHost() || !hostHere;
  el.takeControl.hidden = isHost() || Boolean(hostHere) || live.you.guest;
}

function setFollow(mode, text, offerFollow = false) {
  el.follow.dataset.mode = mode;
  el.follow.innerHTML = `<span class="live-follow-dot"></span>${escapeHtml(text)}` +
    (offerFollow ? ' <button type="button" class="btn sm primary" id="live-follow-host">Follow host</button>' : "");
  document.getElementById("live-follow-host")?.addEventListener("click", () => {
    live.following = true;
    showState(live.state);
    renderControl();
  });
}

el.requestControl.addEventListener("click", () => {
  socket.send({ type: "control.request" });
  toast("The host has been asked.");
});
el.takeControl.addEventListener("click", () => socket.send({ type: "control.take" }));

function showEnded() {
  live.ended = true;
  socket.close();
  live.viewer?.pause();
  setFollow("ended", "This session has ended");
  lockComments("The session has ended.");
  root.classList.add("ended");
  el.requestControl.hidden = el.takeControl.hidden = true;
}

// ---- managing: invite guests, end the session ------------------------------------------------

const inviteButton = document.getElementById("live-invite");
const inviteDialog = document.getElementById("live-invite-dialog");
if (inviteButton && inviteDialog) {
  const form = document.getElementById("live-invite-form");
  inviteButton.addEventListener("click", () => {
    form.reset();
    document.getElementById("live-invite-result").hidden = true;
    inviteDialog.showModal();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const invite = await api(`/api/sessions/${sessionId}/invites/`, {
      method: "POST",
      body: { display_name: form.display_name.value, expires_in_hours: Number(form.expires_in_hours.value) },
    }).catch(() => null);
    if (!invite) return;
    const link = document.getElementById("live-invite-link");
    link.value = invite.join_url;
    document.getElementById("live-invite-result").hidden = false;
    link.select();
  });
}
document.getElementById("live-end")?.addEventListener("click", async () => {
  if (!window.confirm("End the session for everyone? Guest links stop working.")) return;
  await api(`/api/sessions/${sessionId}/end/`, { method: "POST" }).catch(() => null);
});
