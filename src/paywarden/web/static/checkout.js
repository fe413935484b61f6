// The hosted checkout: confirm the exact order with a passkey, then pay with its evidence.
//
// A buyer reads what happened and what to do next, in plain words. The API's problem
// `code` stays in data-code (for tests and styles); its `detail` is written for the
// shop's developers and is never shown here.
import { ApiError, api, confirmOperation, describeError, showStatus } from "./webauthn.js";

const form = document.getElementById("pay-form");
const status = document.getElementById("status");
const order = form.dataset;

// Why a payment did not go through, by the API's code, and what the buyer can do.
const REFUSALS = {
  insufficient_funds: "That balance is too low for this payment, so nothing was taken. Top "
    + "up your wallet on your bank page (/bank), or choose another way to pay.",
  account_frozen: "That account is frozen, so nothing was taken. Choose another way to pay, "
    + "or contact us.",
  card_declined: "Your card was declined by its bank, so nothing was taken. Choose another "
    + "card or another way to pay.",
  card_token_required: "Choose the card to pay with, then try again.",
  ledger_refused: "The payment could not be made, so nothing was taken. Try again in a "
    + "moment, or choose another way to pay.",
  step_up_required: "The order was not confirmed with your passkey. Press the button again "
    + "and confirm it.",
  step_up_mismatch: "Your passkey confirmed something other than this order. Press the "
    + "button again and confirm this order.",
  escrow_transition_not_allowed: "This order changed while you were paying. Reload the "
    + "page to see where it stands.",
  payment_changed: "This order changed while you were paying. Reload the page to see where "
    + "it stands.",
  merchant_suspended: "This shop cannot take payments at the moment, so nothing was taken. "
    + "Contact the shop.",
  merchant_revoked: "This shop can no longer take payments, so nothing was taken. Contact "
    + "the shop.",
  merchant_not_certified: "This shop cannot take payments yet, so nothing was taken. Contact "
    + "the shop.",
  not_found: "This checkout no longer exists. Go back to the shop and start again.",
  rate_limited: "Too many attempts in a short time. Wait a minute, then try again.",
};

// Where an order that cannot be paid any more stands, and what comes next.
const STATES = {
  under_review: "You have paid, and we are making a routine security check of this payment. "
    + "Your money is set aside and the shop cannot take it yet; we will tell you when the "
    + "check is done. You need do nothing.",
  declined: "We stopped this payment after a security check, and the money was returned to "
    + "you. If you made it, contact us and we will help.",
  held: "You have already paid for this order. PayWarden holds the money until you confirm "
    + "the goods arrived; the shop ships it next. Nothing more to do here.",
  shipped: "You have already paid, and the shop has shipped this order. PayWarden holds the "
    + "money until you confirm it arrived: once it has, press the button below. If you do "
    + "not, the money goes to the shop when the inspection period ends.",
  disputed: "You have paid and opened a dispute about this order. PayWarden holds the money "
    + "until the dispute is decided, and will tell you the outcome.",
  released: "This order is paid and complete: the money was released to the shop.",
  refunded: "This order was refunded to you.",
  split: "The dispute about this order was settled: part of the money was refunded to you.",
  cancelled: "This order was cancelled, and nothing was taken. Go back to the shop to order "
    + "again.",
  expired: "This checkout expired before it was paid, and nothing was taken. Go back to the "
    + "shop to start again.",
};

export function refusal(error) {
  if (!(error instanceof ApiError)) return describeError(error);  // the passkey prompt
  if (REFUSALS[error.code]) return REFUSALS[error.code];
  if (error.status >= 500) {
    return "PayWarden could not finish the payment just now. Reload this page to see "
      + "whether it went through before you try again.";
  }
  return "The payment did not go through, so nothing was taken. Try again, or choose "
    + "another way to pay.";
}

function backToShop() {
  document.getElementById("return").href = order.returnUrl;
  document.getElementById("done").hidden = false;
}

if (order.state !== "created") {
  form.hidden = true;
  showStatus(status, STATES[order.state]
    || "This order can no longer be paid here. Go back to the shop.", "info");
  backToShop();
}

// A shipped order: the buyer releases the money once the goods arrived (nothing to sign:
// releasing can only pay the shop the amount already held for this order).
const receipt = document.getElementById("receipt");
if (order.state === "shipped") receipt.hidden = false;
document.getElementById("confirm-receipt").addEventListener("click", async () => {
  try {
    await api(`/v1/payments/${order.payment}/confirm`, { method: "POST" });
    receipt.hidden = true;
    showStatus(status, STATES.released, "ok");
  } catch (error) {
    showStatus(status, REFUSALS[error.code] || "The payment could not be released just now. "
      + "Reload this page to see where the order stands.", "error");
    status.dataset.code = error instanceof ApiError ? error.code : "error";
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const choice = form.querySelector("input[name=method]:checked");
  const body = { method: choice.value, evidence_id: "" };
  if (choice.dataset.card) body.card_token = choice.dataset.card;
  if (choice.dataset.account) body.account_id = choice.dataset.account;
  try {
    showStatus(status, "Confirm the payment with your passkey…", "info");
    const approved = await confirmOperation(undefined, undefined, {
      type: "payment",
      amount: Number(order.amount),
      currency: order.currency,
      payee: order.merchant,
      reference: order.payment,
    });
    body.evidence_id = approved.evidence_id;
    const paid = await api(`/v1/checkout/sessions/${order.session}/pay`,
      { method: "POST", body });
    form.hidden = true;
    // Under review is not an error: the money is set aside while we check the payment.
    if (paid && paid.state === "under_review") showStatus(status, STATES.under_review, "info");
    else showStatus(status, "Paid. PayWarden holds the money until you confirm delivery.", "ok");
    backToShop();
  } catch (error) {
    showStatus(status, refusal(error), "error");
    status.dataset.code = error instanceof ApiError ? error.code
      : (error && error.name) || "error";
  }
});
