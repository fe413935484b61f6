// What the portal's pages share: plain-language errors, a busy button, and a step-up
// (a passkey confirmation over one exact operation) started from a button.
//
//   import { plain, showFormError, clearFormError, busy, stepUp, reloadWith }
//     from "/static/portal.js";
//
// A customer reads what happened and what to do, never the API's `detail` (written for
// developers); the API's `code` stays in data-code, for tests and styles.
import { ApiError, confirmOperation, describeError } from "./webauthn.js";

// Plain words for the codes a customer can meet on these pages. A page passes its own
// for codes that mean something particular there (e.g. a payment's state).
export const PLAIN = {
  validation_failed: "Some of what you entered is not valid. Check each field and try again.",
  unauthenticated: "You have been signed out. Sign in again, then try once more.",
  forbidden: "Your account is not allowed to do that.",
  origin_mismatch: "This request did not come from a PayWarden page, so it was refused.",
  not_found: "That no longer exists. Reload the page to see where things stand.",
  rate_limited: "Too many attempts in a short time. Wait a minute, then try again.",
  name_invalid: "Use ordinary letters, digits and spaces for the name.",
  phrase_invalid: "Use ordinary words for the phrase: up to 64 letters, digits and spaces.",
  card_number_invalid: "That card number is not valid. Check the digits and try again.",
  card_brand_unknown: "PayWarden does not take that kind of card yet.",
  card_length_invalid: "That card number has too many or too few digits.",
  card_checksum_invalid: "That card number has a typing mistake. Check the digits.",
  card_expiry_invalid: "Enter the expiry as a month (01 to 12) and a four-digit year.",
  card_expired: "That card has expired. Use a card that is still valid.",
  card_holder_invalid: "Enter the name as it is printed on the card.",
  passkeys_too_many: "You have the most passkeys an account can hold. Remove one first.",
  passkey_refused: "The passkey was not accepted. Try again on this page.",
  step_up_required: "The action was not confirmed with your passkey. Try again and confirm it.",
  step_up_mismatch: "Your passkey confirmed something else. Try again and confirm this action.",
};

export function plain(error, messages = {}) {
  if (!(error instanceof ApiError)) return describeError(error);  // a passkey prompt
  if (messages[error.code]) return messages[error.code];
  if (PLAIN[error.code]) return PLAIN[error.code];
  if (error.status >= 500) {
    return "PayWarden could not finish this just now. Reload the page to see whether it "
      + "went through before you try again.";
  }
  return "That did not work. Check what you entered and try again.";
}

// Show `error` in a form's error slot (the form_error macro), in plain words.
export function showFormError(element, error, messages = {}) {
  element.textContent = plain(error, messages);
  element.dataset.code = error instanceof ApiError ? error.code
    : (error && error.name) || "error";
  element.hidden = false;
}

export function clearFormError(element) {
  element.textContent = "";
  element.hidden = true;
  delete element.dataset.code;
}

// Run `work` with `button` disabled (no double submits), and enable it again after.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// A step-up over the operation a step_up_button names; resolves to the evidence id the
// operation's endpoint takes.
export async function stepUp(button) {
  const d = button.dataset;
  const approved = await confirmOperation(undefined, undefined, {
    type: d.stepUpType, amount: Number(d.amount), currency: d.currency, payee: d.payee,
    reference: d.reference,
  });
  return approved.evidence_id;
}

// Reload this page saying what was just done (the page shows the words for it), and
// scroll to `anchor` if given.
export function reloadWith(done, anchor = "") {
  const url = new URL(window.location.href);
  url.searchParams.set("done", done);
  url.hash = anchor;
  window.location.assign(url.toString());
}
