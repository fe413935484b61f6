// Transfers to other banks: ask for one back (a recall, camt.056, decision 0061). Asking
// moves no money: the card says the ask is on its way, and the other bank's answer shows
// on the card when it comes (a yes brings the money back as a return).
import { InputError, toMinor } from "./bankkit.js";
import { onUse, say } from "./clearing_kit.js";
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  recall_not_settled: "Only a settled transfer can be recalled: refresh the page.",
  recall_amount_invalid: "A recall is more than zero and at most what was paid.",
  recall_reason_invalid: "Pick a reason from the list.",
  recall_exists: "This transfer is being recalled already: refresh the page.",
};

function words(error) {
  if (error instanceof InputError) return `${error.message} Or leave it empty for all of it.`;
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

async function recall(card) {
  const { uetr, exponent } = card.dataset;
  const body = { uetr, reason: card.querySelector(".reason").value };
  const written = card.querySelector(".amount").value.trim();
  if (written) body.amount = toMinor(written, Number(exponent));
  const made = await api("/v1/staff/clearing/recalls", { method: "POST", body });
  card.querySelector("form.recall")?.remove();
  card.dataset.recall = made.state;
  card.dataset.case = made.case_id;
  say(card, ["Asked: the other bank is asked for it back. Nothing has moved; its answer "
    + "shows here when it comes."], "ok", "recall_asked");
}

for (const card of document.querySelectorAll("article.outgoing")) {
  const button = card.querySelector("form.recall button");
  if (button) onUse(card, button, () => recall(card), words);
}
