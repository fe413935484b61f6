// The approvals inbox: approve or reject a request with a passkey step-up over its id and
// command hash (decision 0041), or withdraw your own. Every call is the JSON API with the
// session cookie; the server refuses self-approval (403 four_eyes_required) whatever the
// page shows. The outcome is written into the request's card in plain words.
import { ApiError, api, confirmOperation, describeError } from "./webauthn.js";

// The API's refusals an approver meets, in the words a person needs.
const PLAIN = {
  four_eyes_required: "You submitted this request, so you cannot approve or reject it: "
    + "another person must.",
  approver_role_refused: "Your role does not approve this kind of request.",
  approver_passkey_required: "A decision is signed with a person's passkey: sign in with "
    + "your passkey.",
  approval_not_pending: "Someone has decided this request already: refresh the page.",
  approval_expired: "This request expired before anyone decided it: it must be submitted again.",
  approval_tampered: "The stored command is not the one that was submitted: nothing ran. "
    + "Tell security.",
  step_up_mismatch: "Your passkey confirmed a different request: try again.",
};

function words(error) {
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

function say(card, text, kind, code) {
  const out = card.querySelector(".outcome");
  out.textContent = text;
  out.dataset.kind = kind;
  if (code) out.dataset.code = code;
  else delete out.dataset.code;
}

// Minor units as money in the request's currency ("€20.00"), as the inbox shows amounts.
function money(amount, currency) {
  const format = new Intl.NumberFormat("en", { style: "currency", currency });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
}

function facts(result, currency) {
  return Object.entries(result || {}).map(([key, value]) => {
    const shown = key === "amount" && Number.isInteger(value) && currency !== "XXX"
      ? money(value, currency) : typeof value === "object" ? JSON.stringify(value) : value;
    return `${key.replace(/_/g, " ")} ${shown}`;
  }).join(", ");
}

// What happened, as a sentence: executed (and what was done), failed (and why), or the rest.
function outcome(done) {
  if (done.state === "executed") {
    return [`Executed: ${done.summary}. Done: ${facts(done.result, done.currency)}.`,
      "ok"];
  }
  if (done.state === "failed") {
    return [`Approved, but it could not be carried out: ${done.reason}. Nothing moved.`, "error"];
  }
  if (done.state === "rejected") return [`Rejected: ${done.reason}. Nothing ran.`, "ok"];
  if (done.state === "withdrawn") return [`Withdrawn: ${done.reason}. Nothing ran.`, "ok"];
  return [`The request is now ${done.state}.`, "info"];
}

function finish(card, done) {
  const [text, kind] = outcome(done);
  say(card, text, kind);
  card.dataset.state = done.state;
  card.querySelector(".decide")?.remove();
}

async function decide(card, decision) {
  const { id, hash, amount, currency } = card.dataset;
  const reason = card.querySelector(".reason-input")?.value.trim() || "";
  if (decision === "reject" && !reason) {
    say(card, "Write why you reject it: the submitter reads it.", "error", "reason_required");
    return;
  }
  say(card, "Confirm with your passkey: it signs this request's id and command hash…", "info");
  const confirmed = await confirmOperation(undefined, undefined, {
    type: `approval_${decision}`, amount: Number(amount), currency, payee: id, reference: hash,
  });
  const body = { evidence_id: confirmed.evidence_id };
  if (decision === "reject") body.reason = reason;
  finish(card, await api(`/v1/approvals/${id}/${decision}`, { method: "POST", body }));
}

async function withdraw(card) {
  const reason = card.querySelector(".reason-input")?.value.trim() || "";
  if (!reason) {
    say(card, "Write why you withdraw it: it is kept with the request.", "error",
      "reason_required");
    return;
  }
  finish(card, await api(`/v1/approvals/${card.dataset.id}/withdraw`, { method: "POST",
    body: { reason } }));
}

const ACTIONS = { approve: (c) => decide(c, "approve"), reject: (c) => decide(c, "reject"),
  withdraw };

for (const card of document.querySelectorAll("article.approval")) {
  for (const [name, act] of Object.entries(ACTIONS)) {
    const button = card.querySelector(`button.${name}`);
    if (!button) continue;
    button.addEventListener("click", async () => {
      const buttons = card.querySelectorAll(".decide button");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await act(card);
      } catch (error) {
        say(card, words(error), "error", error instanceof ApiError ? error.code
          : (error && error.name) || "error");
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  }
}
