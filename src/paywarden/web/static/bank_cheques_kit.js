// What the cheque pages share: the API's refusals and a cheque's bounces in plain words,
// and a call that keeps the whole problem (a bounce's `reason` is beside its `code`).
import { ApiError, showStatus } from "./webauthn.js";
import { InputError, explain } from "./bankkit.js";

// Why a presentation bounced (the API's stable `reason`), as the presenter reads it.
export const BOUNCES = {
  insufficient_funds: "The cheque bounced: the drawer's account does not hold enough money "
    + "for it, so nothing was paid. The cheque is now void; ask the drawer for a new one.",
  stopped: "The cheque bounced: the drawer stopped it, so nothing was paid. Ask the drawer "
    + "about it.",
  stale: "The cheque bounced: it was presented after its expiry date, so nothing was paid. "
    + "Ask the drawer for a new one.",
  altered: "The cheque bounced: its text was changed after it was signed (or it is not a "
    + "PayWarden cheque), so nothing was paid. Paste the text exactly as you received it, "
    + "or ask the drawer to send it again.",
  duplicate: "The cheque bounced: it was presented before, so nothing was paid this time.",
  not_payee: "The cheque bounced: it is made out to an account that is not this one, so "
    + "nothing was paid. Only the payee it names can cash it.",
  expired: "The cheque bounced: it has expired, so nothing was paid. Ask the drawer for a "
    + "new one.",
};

const WORDS = {
  cheque_invalid: "Check the cheque's details: it is dated from today up to 90 days ahead, "
    + "valid for 1 to 180 days after its date, and made out to someone else's account.",
  cheque_account_not_chequing: "Cheques are drawn on an open current account. Choose one.",
  cheque_currency_mismatch: "The payee's account holds another currency than this cheque's. "
    + "Write it in the currency of their account.",
  cheque_serial_taken: "Another cheque took this number meanwhile. Nothing was written; "
    + "try again.",
  cheque_outstanding_max: "This account has as many cheques waiting to be cashed as it may. "
    + "Stop one, or wait until some are cashed.",
  cheque_not_stoppable: "This cheque can no longer be stopped: it was presented, or it "
    + "expired. Reload the page to see where it stands.",
  cheque_not_yet_due: "This cheque is dated later than today: it can be cashed from its date "
    + "on. Nothing was paid, and the cheque stays good: present it again then.",
  cheque_changed: "The cheque changed meanwhile. Reload the page and try again.",
  not_found: "That cheque or account is not one of yours. Reload the page and try again.",
  iban_invalid: "This IBAN is not valid: check it for a typing mistake.",
  validation_failed: "Some of the details are not valid. Check each field and try again.",
};

// A refusal with the problem's extra members (a bounce's `reason`, the cheque's dates).
export class Refused extends ApiError {
  constructor(status, problem) {
    super(status, problem.code || `http_${status}`, problem.detail || "the request failed");
    this.problem = problem;
  }
}

// POST `body` as JSON to the API with the session cookie, under `key` (an Idempotency-Key)
// if given; the answer, or throws Refused. A lost answer throws a TypeError instead.
export async function post(path, body, key) {
  const headers = { Accept: "application/json", "Content-Type": "application/json" };
  if (key) headers["Idempotency-Key"] = key;
  const response = await fetch(path, {
    method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
    cache: "no-store", redirect: "error",
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new Refused(response.status, data || {});
  return data;
}

export function chequeWords(error) {
  if (error instanceof Refused && error.code === "cheque_bounced") {
    return BOUNCES[error.problem.reason] || "The cheque bounced, so nothing was paid.";
  }
  if (error instanceof ApiError && WORDS[error.code]) return WORDS[error.code];
  if (error instanceof TypeError) {  // fetch: no answer (the connection failed)
    return "The connection failed before PayWarden answered. Press the button again: if "
      + "the first attempt went through, you see its outcome, and nothing is done twice.";
  }
  return explain(error);
}

// Show `error` in `status` in plain words; its code (and a bounce's reason) in data-*.
export function failCheque(status, error) {
  showStatus(status, chequeWords(error), "error");
  status.dataset.code = error instanceof ApiError ? error.code
    : error instanceof InputError ? "input_invalid" : (error && error.name) || "error";
  if (error instanceof Refused && error.problem.reason) {
    status.dataset.reason = error.problem.reason;
  } else {
    delete status.dataset.reason;
  }
}

export function sayCheque(status, text, kind = "ok") {
  showStatus(status, text, kind);
  delete status.dataset.reason;
}

// Run `work` with `button` disabled (no double submit); a failure is shown in `status`.
export async function chequeBusy(button, status, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    failCheque(status, error);
  } finally {
    button.disabled = false;
    if (status.textContent) status.scrollIntoView({ block: "nearest" });
  }
}
