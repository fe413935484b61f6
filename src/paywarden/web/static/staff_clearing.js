// Transfers from other banks: send one back (a return, decision 0060), or answer the
// paying bank's recall (decision 0061). A return, and a yes to a recall, are four-eyes
// commands: the API answers 202 with the approval, nothing moves, and the card says so
// and links the approvals inbox, where a member of risk approves it. A no moves nothing
// and is answered at once.
import { InputError, toMinor } from "./bankkit.js";
import { onUse, pending, say } from "./clearing_kit.js";
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  return_not_settled: "Only a settled transfer can be returned: refresh the page.",
  return_amount_invalid: "A return is more than zero and at most what came.",
  return_reason_invalid: "Pick a reason from the list.",
  return_exists: "This transfer is being returned already: refresh the page.",
  recall_answered: "This recall was answered already: refresh the page.",
  recall_refusal_invalid: "Pick a reason from the list.",
};

function words(error) {
  if (error instanceof InputError) return `${error.message} Or leave it empty for all of it.`;
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

async function submitReturn(card) {
  const { uetr, exponent } = card.dataset;
  const params = { uetr, reason: card.querySelector(".reason").value };
  const written = card.querySelector(".amount").value.trim();
  if (written) params.amount = toMinor(written, Number(exponent));
  const made = await api("/v1/approvals", {
    method: "POST", body: { kind: "clearing_return", params } });
  card.querySelector("form.return")?.remove();
  card.dataset.approval = made.approval_id;
  pending(card, made);
}

async function agree(card, recall) {
  const made = await api("/v1/approvals", {
    method: "POST", body: { kind: "clearing_return", params: { case_id: recall.dataset.case } } });
  recall.querySelector(".recall-actions")?.remove();
  card.dataset.approval = made.approval_id;
  pending(card, made);
}

async function refuse(card, recall) {
  const reason = recall.querySelector(".refusal");
  const done = await api(`/v1/staff/clearing/recalls/${recall.dataset.case}/refuse`, {
    method: "POST", body: { reason: reason.value } });
  const said = reason.selectedOptions[0].textContent;
  recall.querySelector(".recall-actions")?.remove();
  recall.dataset.recall = done.state;
  say(card, [`Refused: ${said}. The paying bank is told; nothing moved.`], "ok", "refused");
}

for (const card of document.querySelectorAll("article.incoming")) {
  const returning = card.querySelector("form.return button");
  if (returning) onUse(card, returning, () => submitReturn(card), words);
  const recall = card.querySelector("section.recall");
  const agreeing = recall?.querySelector("button.agree");
  if (agreeing) onUse(card, agreeing, () => agree(card, recall), words);
  const refusing = recall?.querySelector("form.refuse button");
  if (refusing) onUse(card, refusing, () => refuse(card, recall), words);
}
