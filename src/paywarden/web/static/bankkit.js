// What every bank page needs: amounts typed as text -> integer minor units, a fresh
// transfer id, and refusals in plain words.
//
// Amounts never pass through floating point: "12.34" is split on its decimal point and
// the parts are joined as digits (BigInt), with the currency's exponent from the page.
import { ApiError, api, describeError, showStatus } from "./webauthn.js";

export const AMOUNT_MINOR_MAX = 10n ** 15n;  // the API's bound

export class InputError extends Error {}

// "12.34" (or "12,34") in a currency with `exponent` minor digits -> 1234 (a Number).
// Throws InputError with a sentence for the customer.
export function toMinor(text, exponent) {
  const cleaned = String(text).trim().replace(/[\s\u00a0']/g, "");
  const unit = exponent === 0 ? "whole units" : `up to ${exponent} decimals`;
  if (cleaned === "") throw new InputError("Enter an amount.");
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(cleaned);
  if (!match) {
    throw new InputError(`Enter the amount as digits with ${unit}, for example `
      + `${exponent === 0 ? "1200" : "12." + "5".padEnd(exponent, "0")}.`);
  }
  const whole = match[1];
  const fraction = match[2] || "";
  if (fraction.length > exponent) {
    throw new InputError(exponent === 0 ? "This currency has no decimals: enter whole units."
      : `This currency has ${exponent} decimals at most.`);
  }
  const minor = BigInt(whole) * 10n ** BigInt(exponent)
    + BigInt(fraction.padEnd(exponent, "0") || "0");
  if (minor <= 0n) throw new InputError("Enter an amount greater than zero.");
  if (minor > AMOUNT_MINOR_MAX) throw new InputError("This amount is too large.");
  return Number(minor);
}

// 1234, 2, "EUR" -> "€12.34", as the pages' `money` filter (Babel) writes it in English.
// Exact: the digits are placed around the decimal point as text, and Intl formats that
// decimal string (never a float); without Intl support for the code, "12.34 EUR".
export function formatMinor(minor, exponent, code) {
  const negative = minor < 0;
  const digits = String(negative ? -minor : minor).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const decimal = `${negative ? "-" : ""}${whole}${exponent ? "." : ""}`
    + digits.slice(digits.length - exponent);
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code,
      minimumFractionDigits: exponent, maximumFractionDigits: exponent }).format(decimal);
  } catch {
    return `${decimal.replace(/\B(?=(\d{3})+(?!\d))/g, ",")} ${code}`;
  }
}

// A transfer id for one attempt: a retry of the same attempt (a lost answer) is answered
// with the first result by the API, never applied twice.
export function newTransferId(prefix = "web") {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const PLAIN = {
  insufficient_funds: "There is not enough money in the account for this, so nothing moved.",
  account_frozen: "This account is frozen: it cannot send money. Nothing moved. Contact "
    + "PayWarden to find out why.",
  account_closed: "This account is closed, so nothing moved.",
  wallet_exists: "You already have a wallet in this currency.",
  currency_unknown: "That is not a currency code we know. Use a three-letter ISO code such "
    + "as EUR, USD or GBP.",
  account_name_invalid: "Give the account a name of 1 to 64 characters.",
  card_declined: "The card was declined by its bank, so nothing moved. Try another card.",
  step_up_required: "The passkey confirmation was missing or has expired. Try again and "
    + "confirm with your passkey.",
  step_up_mismatch: "Your passkey confirmed something other than this. Nothing moved; try "
    + "again.",
  passkey_refused: "Your passkey confirmation was refused, so nothing moved.",
  rate_limited: "Too many attempts in a short time. Wait a minute, then try again.",
  transfer_exists_with_different_fields: "This form was already used for another transfer. "
    + "Reload the page and try again.",
  movement_declined: "The bank declined this transfer, so nothing moved.",
  not_found: "That account or card is not one of yours. Reload the page and try again.",
  statement_period_invalid: "Choose a period of at most a year (366 days) that ends today "
    + "at the latest.",
  history_filter_invalid: "Check the dates and amounts you filter by.",
  validation_failed: "Some of the details are not valid. Check them and try again.",
  iban_invalid: "This IBAN is not valid: check it for a typing mistake.",
  payee_name_invalid: "Enter the payee's name as their account is held, up to 70 characters.",
  payee_exists: "You already have a payee with this IBAN.",
  payees_too_many: "You have as many payees as an account can hold. Delete one you no longer "
    + "pay first.",
  payee_account_unknown: "No PayWarden account has this IBAN. Check it with the payee.",
  payee_cooling_off: "This payee is new and still cooling off: until then it can receive only "
    + "a small amount in all. Nothing moved. Send less now, or wait until the cooling-off ends.",
  limit_per_transfer_exceeded: "This is more than your limit per transfer, so nothing moved. "
    + "Send less, or raise the limit (a raise starts after a delay).",
  limit_per_day_exceeded: "This would take you over your daily limit, so nothing moved. Send "
    + "less, wait until tomorrow, or raise the limit (a raise starts after a delay).",
  limit_per_payee_exceeded: "This would take you over your daily limit for this payee, so "
    + "nothing moved.",
  limit_above_bank_max: "That is more than the bank allows for this limit.",
  schedule_invalid: "The dates do not make a schedule: check the first and last dates.",
  standing_orders_too_many: "You have as many standing orders as an account can hold. "
    + "Cancel one first.",
};

// A sentence for the customer: ours for known codes, else the API's own `detail`.
export function explain(error) {
  if (error instanceof InputError) return error.message;
  if (error instanceof ApiError) {
    if (PLAIN[error.code]) return PLAIN[error.code];
    if (error.status >= 500) {
      return "PayWarden could not finish this just now. Reload the page to see whether it "
        + "went through before you try again.";
    }
    const detail = error.detail || "";
    return detail ? detail.charAt(0).toUpperCase() + detail.slice(1) + "." : "It did not work.";
  }
  return describeError(error);
}

export function fail(status, error) {
  showStatus(status, explain(error), "error");
  status.dataset.code = error instanceof ApiError ? error.code
    : error instanceof InputError ? "input_invalid" : (error && error.name) || "error";
}

// Run `work` with `button` disabled (no double submit); errors are shown in `status`.
export async function busy(button, status, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    fail(status, error);
  } finally {
    button.disabled = false;
    if (status.textContent) status.scrollIntoView({ block: "nearest" });
  }
}

// After money moved: rewrite each <option data-label="…"> of the page's account selects
// with the account's fresh available balance (from the API, written as text).
export async function refreshBalances() {
  const { data } = await api("/v1/me/accounts");
  const byId = new Map(data.map((a) => [a.id, a]));
  for (const option of document.querySelectorAll("option[data-exponent]")) {
    const account = byId.get(option.value);
    if (!account) continue;
    const shown = formatMinor(account.available, Number(option.dataset.exponent),
      account.currency);
    option.textContent = `${account.name} · ${shown} available`;
  }
}

// "NL91ABNA0417164300" -> "NL91 ABNA 0417 1643 00", as IBANs are printed.
export function groupIban(iban) {
  return iban.replace(/(.{4})(?=.)/g, "$1 ");
}

// "2026-12-01T12:00:00Z" -> "2026-12-01 12:00 UTC": the same words on every device.
export function when(rfc3339) {
  return `${rfc3339.slice(0, 10)} ${rfc3339.slice(11, 16)} UTC`;
}

// Wire a statement form (_statement_form.html): the file for the chosen account, dates and
// format is fetched, then saved under the name the API gives it; a refusal is shown in
// plain words instead of leaving the page for a JSON problem.
export function statementForm(form, status, accountOf) {
  const button = document.getElementById("statement-download");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, status, async () => {
      const from = document.getElementById("statement-from").value;
      const to = document.getElementById("statement-to").value;
      if (!from || !to) throw new InputError("Choose the first and the last day.");
      if (from > to) throw new InputError("The first day must not be after the last day.");
      const q = new URLSearchParams({
        from, to, format: document.getElementById("statement-format").value,
      });
      const response = await fetch(`/v1/me/accounts/${accountOf()}/statements?${q}`, {
        credentials: "same-origin", cache: "no-store", redirect: "error",
      });
      if (!response.ok) {
        let problem = {};
        try { problem = await response.json(); } catch { problem = {}; }
        throw new ApiError(response.status, problem.code || `http_${response.status}`,
          problem.detail || "the statement could not be made");
      }
      const named = /filename="([A-Za-z0-9._-]+)"/.exec(
        response.headers.get("Content-Disposition") || "");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = named ? named[1] : "statement";
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      showStatus(status, `Your statement ${link.download} was downloaded.`, "ok");
    });
  });
}
