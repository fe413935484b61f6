// The merchant's payments: ship, refund, answer a dispute. Each is the JSON API with the
// session cookie; a refund at or over the merchant's threshold answers 202 and waits for a
// second owner in the approvals inbox: the page says so and links there. The outcome is
// written into the payment's card in plain words.
import { ApiError, api, describeError } from "./webauthn.js";

function say(card, text, kind, code) {
  const out = card.querySelector(".outcome");
  out.replaceChildren(text);
  out.dataset.kind = kind;
  if (code) out.dataset.code = code;
  else delete out.dataset.code;
  return out;
}

// "20.00" in the payment's currency → minor units (2000), or null if it is not an amount.
function minor(text, currency) {
  const digits = new Intl.NumberFormat("en", { style: "currency", currency })
    .resolvedOptions().maximumFractionDigits;
  const match = /^(\d{1,13})(?:\.(\d+))?$/.exec(text.trim());
  if (!match || (match[2] || "").length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] || "").padEnd(digits, "0") || 0);
}

async function ship(card, form) {
  const carrier = form.carrier.value.trim();
  const tracking = form.tracking.value.trim();
  if (!carrier || !tracking) {
    say(card, "Write the carrier and the tracking number.", "error", "input_required");
    return;
  }
  const done = await api(`/v1/payments/${card.dataset.id}/shipments`, { method: "POST",
    body: { carrier, tracking } });
  say(card, `Shipped with ${carrier}. The buyer is told; the money is released to you `
    + "when they confirm or the release date comes.", "ok");
  card.dataset.state = done.state;
  card.querySelector(".card-head .badge").textContent = "Shipped";
  form.remove();
}

async function refund(card, form) {
  const amount = minor(form.amount.value, card.dataset.currency);
  if (!amount) {
    say(card, "Write the amount to refund, e.g. 20.00.", "error", "input_required");
    return;
  }
  const refundId = `web-${crypto.randomUUID()}`;
  const done = await api(`/v1/payments/${card.dataset.id}/refunds`, { method: "POST",
    body: { amount, refund_id: refundId } });
  if (done.approval_id) {
    const out = say(card, "This refund waits for a second owner, who approves it with their "
      + "passkey. Nothing moves until then. ", "info", "waits_for_approval");
    const link = document.createElement("a");
    link.href = "/merchant/approvals";
    link.className = "to-approvals";
    link.textContent = "See it in Approvals";
    out.append(link);
    return;
  }
  say(card, "Refunded: the buyer has the money back.", "ok");
  card.dataset.state = done.state;
}

async function answer(card, form) {
  const statement = form.statement.value.trim();
  if (!statement) {
    say(card, "Write your account of what happened.", "error", "input_required");
    return;
  }
  const refs = form.evidence.value.split("\n").map((s) => s.trim()).filter(Boolean);
  await api(`/v1/payments/${card.dataset.id}/disputes/answer`, { method: "POST",
    body: { statement, evidence_refs: refs } });
  say(card, "Answer sent: PayWarden's staff read it with the buyer's before deciding.", "ok");
  form.remove();
}

const ACTIONS = { ship, refund, answer };

for (const card of document.querySelectorAll("article.payment")) {
  for (const [name, act] of Object.entries(ACTIONS)) {
    const form = card.querySelector(`form.${name}`);
    if (!form) continue;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await act(card, form);
      } catch (error) {
        say(card, describeError(error), "error",
          error instanceof ApiError ? error.code : (error && error.name) || "error");
      } finally {
        button.disabled = false;
      }
    });
  }
}
