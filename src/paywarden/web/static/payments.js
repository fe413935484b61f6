// The buyer's payments: confirm delivery of a shipped order, or open a dispute about it.
// Both go through the JSON API; the page then reloads with ?done=<what>#<payment>.
import { busy, clearFormError, reloadWith, showFormError } from "./portal.js";
import { api } from "./webauthn.js";

// What a refusal means for this order, in the buyer's words.
const REFUSALS = {
  escrow_transition_not_allowed: "This order changed in the meantime. Reload the page to "
    + "see where it stands.",
  payment_changed: "This order changed in the meantime. Reload the page to see where it "
    + "stands.",
  escrow_inspection_period_over: "The time to open a dispute about this order has passed, "
    + "and the money went to the shop. Contact the shop first, then PayWarden support.",
  dispute_input_invalid: "Choose what is wrong from the list.",
  validation_failed: "Choose what is wrong, and keep the description under 2,000 characters.",
  not_found: "This order is no longer yours to act on. Reload the page.",
};

for (const button of document.querySelectorAll(".confirm-delivery")) {
  const card = button.closest(".payment");
  const error = card.querySelector(".form-error[id^='confirm-error']");
  button.addEventListener("click", async () => {
    clearFormError(error);
    try {
      await busy(button, () => api(`/v1/payments/${button.dataset.payment}/confirm`,
        { method: "POST" }));
      reloadWith("confirmed", button.dataset.payment);
    } catch (failure) {
      showFormError(error, failure, REFUSALS);
    }
  });
}

for (const form of document.querySelectorAll(".dispute-form")) {
  const error = form.querySelector(".form-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(error);
    const reason = form.querySelector(".dispute-reason").value;
    const detail = form.querySelector(".dispute-detail").value.trim();
    if (!reason) {  // said here, before a round trip
      error.textContent = REFUSALS.dispute_input_invalid;
      error.dataset.code = "reason_missing";
      error.hidden = false;
      form.querySelector(".dispute-reason").focus();
      return;
    }
    try {
      await busy(form.querySelector("button[type=submit]"), () => api(
        `/v1/payments/${form.dataset.payment}/disputes`,
        { method: "POST", body: { reason, detail } }));
      reloadWith("disputed", form.dataset.payment);
    } catch (failure) {
      showFormError(error, failure, REFUSALS);
    }
  });
}
