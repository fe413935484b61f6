// The hosted checkout: confirm the exact order with a passkey, then pay with its evidence.
import { api, confirmOperation, showError, showStatus } from "./webauthn.js";

const form = document.getElementById("pay-form");
const status = document.getElementById("status");
const order = form.dataset;

if (order.state !== "created") {
  form.hidden = true;
  showStatus(status, `This order is already ${order.state}.`, "info");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const choice = form.querySelector("input[name=method]:checked");
  const body = { method: choice.value, evidence_id: "" };
  if (choice.dataset.card) body.card_token = choice.dataset.card;
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
    const paid = await api(`/v1/checkout/sessions/${order.session}/pay`, {
      method: "POST", body,
    });
    form.hidden = true;
    showStatus(status, "Paid. PayWarden holds the money until you confirm delivery.", "ok");
    const back = document.getElementById("return");
    back.href = paid.return_url;
    document.getElementById("done").hidden = false;
  } catch (error) {
    showError(status, error);
  }
});
