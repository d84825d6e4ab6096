// Keyboard helpers shared by every page, and the global shortcuts: `?` opens the shortcut overlay
// (base.html's <dialog>), `g` then a letter follows a top-bar link marked data-go="<letter>".

/** True when a key event should be left to a text field (typing, not a shortcut). */
export function isTypingTarget(event) {
  const el = event.target;
  if (!(el instanceof Element)) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  if (el.tagName === "INPUT") {
    return !["checkbox", "radio", "button", "submit", "range", "reset"].includes(el.type);
  }
  return false;
}

/** True when the event carries a modifier that belongs to the browser or the OS (Ctrl, Alt, Meta). */
export function hasCommandModifier(event) {
  return event.ctrlKey || event.altKey || event.metaKey;
}

/**
 * Bind page shortcuts: `bindKeys({"/": fn, "ArrowDown": fn})`. Handlers get the event; they are
 * skipped while the user types in a field or holds Ctrl/Alt/Meta, and while a dialog is open.
 * Returns a function that removes the binding.
 */
export function bindKeys(map) {
  const listener = (event) => {
    if (event.defaultPrevented || isTypingTarget(event) || hasCommandModifier(event)) return;
    if (document.querySelector("dialog[open]")) return;
    const handler = map[event.key];
    if (handler) handler(event);
  };
  document.addEventListener("keydown", listener);
  return () => document.removeEventListener("keydown", listener);
}

export function openShortcuts() {
  const dialog = document.getElementById("shortcuts-dialog");
  if (dialog && !dialog.open) dialog.showModal();
}

let waitingForGo = false;
let goTimer = 0;

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || isTypingTarget(event) || hasCommandModifier(event)) return;
  if (event.key === "?") {
    event.preventDefault();
    openShortcuts();
    return;
  }
  if (event.key === "Escape") {
    const menu = document.querySelector("details.menu[open]");
    if (menu) menu.open = false;
    return;
  }
  if (document.querySelector("dialog[open]")) return;
  if (waitingForGo) {
    waitingForGo = false;
    clearTimeout(goTimer);
    const link = document.querySelector(`.topnav a[data-go="${CSS.escape(event.key)}"]`);
    if (link) {
      event.preventDefault();
      link.click();
    }
    return;
  }
  if (event.key === "g") {
    waitingForGo = true;
    goTimer = setTimeout(() => { waitingForGo = false; }, 1200);
  }
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-open-shortcuts]")) openShortcuts();
  // A click outside an open menu closes it (a <details> does not do that by itself).
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
