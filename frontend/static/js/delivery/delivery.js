// The delivery page: start a delivery, follow its job live (the film socket), cancel it, verify files.
import { api } from "../common/api.js";
import { ReconnectingSocket } from "../common/ws.js";
import { toast } from "../common/toast.js";

const root = document.getElementById("delivery");
const filmId = root.dataset.film;
const form = document.getElementById("deliver-form");
const jobBox = document.getElementById("deliver-job");
let jobId = root.dataset.activeJob ? Number(root.dataset.activeJob) : null;

function showJob(job) {
  if (!jobBox) return;
  jobBox.hidden = false;
  const percent = Math.round((job.progress || 0) * 100);
  const bar = jobBox.querySelector(".progress");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.querySelector("span").style.width = `${percent}%`;
  const text = job.status === "failed" ? `Failed: ${job.error}` : job.status === "succeeded" ? job.message
    : `Delivery job #${job.job ?? job.id}: ${job.status} ${percent}%`;
  document.getElementById("deliver-job-text").textContent = text;
  document.getElementById("deliver-cancel").hidden = !["pending", "running"].includes(job.status);
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = {
    masters: data.getAll("masters"),
    exports: data.getAll("exports"),
    sound: data.get("sound") === "on",
  };
  if (data.get("scope") === "reel") body.reel = { first: Number(data.get("first")), last: Number(data.get("last")) };
  if (data.get("fallback")) body.fallback = data.get("fallback");
  if (data.get("distribution_codec")) {
    body.distribution = { codec: data.get("distribution_codec"), target: data.get("distribution_target") };
  }
  try {
    const job = await api(`/api/films/${filmId}/deliver/`, { method: "POST", body, idempotent: true, quiet: true });
    jobId = job.id;
    showJob(job);
  } catch (error) {
    const fields = error.body?.fields || {};
    if (fields.unapproved_shots) {
      const box = document.getElementById("fallback");
      box.hidden = false;
      document.getElementById("unapproved").textContent =
        `Shots ${fields.unapproved_shots.join(", ")} have no approved version: choose a fallback or stop.`;
    }
    toast(error.message, { kind: "error" });
  }
});

document.getElementById("deliver-cancel")?.addEventListener("click", async () => {
  if (jobId !== null) showJob(await api(`/api/jobs/${jobId}/cancel/`, { method: "POST" }));
});

document.getElementById("deliverables")?.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-verify]");
  if (!button) return;
  button.disabled = true;
  try {
    const item = await api(`/api/deliverables/${button.dataset.verify}/verify/`, { method: "POST" });
    const row = button.closest("tr");
    const status = row.querySelector('[data-field="status"]');
    status.className = `status status-${item.status}`;
    status.textContent = { verified: "Verified", mismatch: "Checksum mismatch", missing: "File missing" }[item.status]
      || item.status;
    row.querySelector('[data-field="verify"]').textContent = item.verify_message;
  } finally {
    button.disabled = false;
  }
});

const socket = new ReconnectingSocket(`ws/films/${filmId}/`);
socket.addEventListener("message", (event) => {
  const message = event.detail;
  if (!message || message.kind !== "deliver" || (jobId !== null && message.job !== jobId)) return;
  if (message.type === "job.progress" || message.type === "job.finished") {
    jobId = message.job;
    showJob(message);
    if (message.type === "job.finished" && message.status === "succeeded") window.location.reload();
  }
});
