// The comments API: a shot's comments (every page of them), posting one, resolving or reopening.

import { api } from "../common/api.js";

async function fetchAll(url) {
  const rows = [];
  let next = url;
  while (next) {
    const page = await api(next, { quiet: true });
    rows.push(...page.results);
    next = page.next;
  }
  return rows;
}

/** Every comment of the shot, all versions (quiet: the panel shows the failure in its list). */
export function fetchComments(shotId) {
  return fetchAll(`/api/comments/?shot=${shotId}&page_size=200`);
}

/** Quiet: the composer shows the failure under the text. Idempotent: sending it again after a
 * failure cannot post it twice. */
export function postComment(body) {
  return api("/api/comments/", { method: "POST", body, quiet: true, idempotent: true });
}

/** Resolve an open comment, reopen a resolved one. */
export function toggleResolved(comment) {
  return api(`/api/comments/${comment.id}/`, { method: "PATCH", body: { resolved: !comment.resolved } });
}
