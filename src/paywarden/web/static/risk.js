// The analysts' queue and case pages: every action is a call to the JSON API with the
// session cookie (release, decline, label, re-run); the page reloads to show the result.
import { api, showError, showStatus, signOut } from "./webauthn.js";

const status = document.getElementById("status");
const caseId = document.getElementById("case")?.dataset.case;

async function act(button, call) {
  button.disabled = true;
  try {
    await call();
  } catch (error) {
    showError(status, error);
  } finally {
    button.disabled = false;
  }
}

function on(id, handler) {
  const element = document.getElementById(id);
  if (element) element.addEventListener("click", () => act(element, handler));
}

async function answer(outcome) {
  const reason = document.getElementById("reason").value.trim();
  if (!reason) {
    showStatus(status, "Write a reason: it is kept with the outcome.", "error");
    return;
  }
  const done = await api(`/v1/risk/cases/${caseId}/${outcome}`, { method: "POST",
    body: { reason } });
  showStatus(status, done.created ? `Case ${done.outcome}d: the money is now ${done.result}.`
    : `This case was already answered: ${done.outcome} by ${done.actor}.`, "ok");
  setTimeout(() => window.location.reload(), 800);
}

async function label(value) {
  await api(`/v1/risk/decisions/${caseId}/label`, { method: "POST", body: { label: value } });
  showStatus(status, `Labelled ${value.replace("_", " ")}.`, "ok");
}

on("release", () => answer("release"));
on("decline", () => answer("decline"));
on("label-fraud", () => label("fraud"));
on("label-fp", () => label("false_positive"));
on("rerun", async () => {
  const done = await api(`/v1/risk/decisions/${caseId}/rerun`, { method: "POST" });
  document.getElementById("rerun-result").textContent = done.same
    ? `Re-run: the same answer (${done.rerun.decision}).`
    : `Re-run: a different answer (${done.rerun.decision}, recorded ${done.recorded.decision}).`;
  showStatus(status, "Re-run done.", "ok");
});
on("sign-out", async () => {
  await signOut();
  window.location.assign("/staff/signin");
});
