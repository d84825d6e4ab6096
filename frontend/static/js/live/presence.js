// The presence list of a live session: who is here, who hosts, who asked for control, and (for
// the host) a hand-over button on everyone else.

import { escapeHtml } from "../common/format.js";

// A stable hue per user, so a face keeps its colour from one session to the next.
function hueOf(userId) {
  return (userId * 137) % 360;
}

export function renderParticipants(list, { participants, hostId, youId, youAreHost, requests, onHandOver }) {
  list.innerHTML = participants.map((person) => {
    const badges = [
      person.user === hostId ? '<span class="live-badge host">Host</span>' : "",
      person.guest ? '<span class="live-badge guest">Guest</span>' : "",
      person.user === youId ? '<span class="live-badge you">You</span>' : "",
      requests.has(person.user) ? '<span class="live-badge asks">Asks for control</span>' : "",
    ].join("");
    const handOver = youAreHost && person.user !== youId
      ? `<button type="button" class="btn sm ghost live-hand-over" data-user="${person.user}" title="Give control to ${escapeHtml(person.name)}">Hand over</button>`
      : "";
    return `<li class="live-person${person.user === hostId ? " is-host" : ""}" data-user="${person.user}">
      <span class="live-avatar" data-hue="${hueOf(person.user)}" aria-hidden="true">${escapeHtml(person.initials)}</span>
      <span class="live-person-text"><span class="live-person-name">${escapeHtml(person.name)}</span>
        <span class="live-badges">${badges}</span></span>
      ${handOver}</li>`;
  }).join("");
  // Set here, not as a style attribute in the HTML: the Content-Security-Policy allows none.
  for (const avatar of list.querySelectorAll(".live-avatar")) avatar.style.setProperty("--hue", avatar.dataset.hue);
  for (const button of list.querySelectorAll(".live-hand-over")) {
    button.addEventListener("click", () => onHandOver(Number(button.dataset.user)));
  }
}
