// The catalogue: live filtering (the same server-rendered page, fetched and swapped in, so the
// filters have one implementation), shareable URLs, and keyboard use (/ search, arrows, Enter).
import { bindKeys } from "../common/keys.js";
import { toastError } from "../common/toast.js";

const root = document.getElementById("catalogue");
const form = document.getElementById("film-filters");
const search = document.getElementById("film-search");
let activeIndex = -1;
let inFlight = null;
let typingTimer = 0;

const rows = () => [...root.querySelectorAll("#films-table tbody tr")];

function setActive(index, { scroll = true } = {}) {
  const all = rows();
  if (!all.length) return;
  activeIndex = Math.max(0, Math.min(all.length - 1, index));
  all.forEach((row, i) => row.setAttribute("aria-selected", i === activeIndex ? "true" : "false"));
  if (scroll) all[activeIndex].scrollIntoView({ block: "nearest" });
}

function openActive() {
  const row = rows()[activeIndex];
  if (row) location.href = row.dataset.href;
}

/** The form's non-empty fields as a query string (empty filters stay out of the URL). */
function formQuery() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (String(value).trim() !== "") params.append(name, String(value).trim());
  }
  return params;
}

async function load(query) {
  const url = `${location.pathname}${query.toString() ? `?${query}` : ""}`;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  document.body.classList.add("loading");
  try {
    const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
    const html = await response.text();
    const page = new DOMParser().parseFromString(html, "text/html");
    for (const id of ["catalogue-results", "catalogue-stats"]) {
      const fresh = page.getElementById(id);
      if (fresh) document.getElementById(id).replaceWith(fresh);
    }
    const hidden = page.querySelector('#film-filters input[name="ordering"]');
    form.querySelector('input[name="ordering"]')?.remove();
    if (hidden) form.append(hidden);
    document.getElementById("filters-reset").hidden = !["search", "status", "year_min", "year_max", "decade", "director"]
      .some((name) => query.get(name));
    history.replaceState(null, "", url);
    activeIndex = -1;
  } catch (error) {
    if (error.name !== "AbortError") toastError("The film list could not be refreshed. Check your connection.");
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      document.body.classList.remove("loading");
    }
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(formQuery());
});
form.addEventListener("change", (event) => {
  if (event.target !== search) load(formQuery());
});
form.addEventListener("input", (event) => {
  if (event.target.type !== "search" && event.target.type !== "number") return;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => load(formQuery()), 180);
});
document.getElementById("filters-reset").addEventListener("click", (event) => {
  event.preventDefault();
  form.reset();
  for (const field of form.elements) {
    if (field.name && field.type !== "submit") field.value = "";
  }
  form.querySelector('input[name="ordering"]')?.remove();
  load(new URLSearchParams());
});

root.addEventListener("click", (event) => {
  const sort = event.target.closest("th a.sort");
  if (sort) {
    event.preventDefault();
    load(new URL(sort.href).searchParams);
    return;
  }
  const row = event.target.closest("#films-table tbody tr");
  if (row && !event.target.closest("a") && !event.ctrlKey && !event.metaKey) location.href = row.dataset.href;
});

search.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    search.blur();
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    search.blur();
    setActive(0);
  } else if (event.key === "Enter" && rows().length === 1) {
    event.preventDefault();
    setActive(0);
    openActive();
  }
});

bindKeys({
  "/": (event) => { event.preventDefault(); search.focus(); search.select(); },
  ArrowDown: (event) => { event.preventDefault(); setActive(activeIndex + 1); },
  ArrowUp: (event) => { event.preventDefault(); setActive(activeIndex - 1); },
  j: () => setActive(activeIndex + 1),
  k: () => setActive(activeIndex - 1),
  Enter: (event) => {
    if (activeIndex < 0 || event.target.closest?.("a, button")) return;
    event.preventDefault();
    openActive();
  },
});
