// Present a cheque: the pasted text is read (not trusted: only to preview it and to choose
// the account it names), then presented to the API, which verifies everything. Paid: the
// account's new balance; collecting (a cheque of another bank, which accepted it): the money
// is on its way through the clearing network; bounced: the reason in plain words (nothing
// was paid).
import { ApiError, api, b64urlToBuffer } from "./webauthn.js";
import { InputError, formatMinor, groupIban, newTransferId } from "./bankkit.js";
import { chequeBusy, post, sayCheque } from "./bank_cheques_kit.js";

const status = document.getElementById("status");
const form = document.getElementById("present-form");
const TEXT_CHARS_MAX = 4096;
// A presentation whose answer was lost: presenting the same text into the same account again
// sends it under the same Idempotency-Key, so the API replays its answer (paid) rather than
// judging a second presentation (a duplicate).
let lost = null;

// The claims the text says it holds, or null when it does not look like a cheque. Unverified:
// the bank checks the signatures when it is presented.
export function readCheque(text) {
  const parts = text.split(".");
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return null;
  try {
    const claims = JSON.parse(new TextDecoder().decode(b64urlToBuffer(parts[1])));
    const fine = claims && typeof claims === "object" && Number.isSafeInteger(claims.amount_minor)
      && typeof claims.payee_iban === "string" && typeof claims.currency === "string";
    return fine ? claims : null;
  } catch {
    return null;
  }
}

// The currency's decimals as the browser knows them (ISO 4217), for the preview only.
function exponentOf(code) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code })
      .resolvedOptions().maximumFractionDigits;
  } catch {
    return null;
  }
}

if (form) {
  const input = document.getElementById("present-text");
  const select = document.getElementById("present-account");
  const preview = document.getElementById("present-preview");
  const summary = document.getElementById("preview-summary");
  const payee = document.getElementById("preview-payee");
  const result = document.getElementById("present-result");
  const cleaned = () => input.value.replace(/\s+/g, "");
  const optionFor = (iban) => Array.from(select.options).find((o) => o.dataset.iban === iban);

  const show = () => {
    const claims = readCheque(cleaned());
    preview.hidden = !claims;
    if (!claims) return;
    const mine = optionFor(claims.payee_iban);
    const exponent = mine ? Number(mine.dataset.exponent) : exponentOf(claims.currency);
    const amount = exponent === null ? `${claims.amount_minor} minor units of ${claims.currency}`
      : formatMinor(claims.amount_minor, exponent, claims.currency);
    summary.textContent = `Cheque no. ${claims.serial} for ${amount} from `
      + `${groupIban(String(claims.drawer_iban))}, dated ${claims.date}, valid until `
      + `${claims.expires_on}.`;
    if (mine) {
      select.value = mine.value;
      payee.textContent = `Made out to ${claims.payee_name}: your account `
        + `${mine.dataset.name}.`;
      payee.dataset.mine = "true";
    } else {
      payee.textContent = `Made out to ${claims.payee_name} at `
        + `${groupIban(claims.payee_iban)}, which is not one of your accounts: it would bounce.`;
      payee.dataset.mine = "false";
    }
  };
  input.addEventListener("input", show);
  show();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    result.hidden = true;
    chequeBusy(document.getElementById("present"), status, async () => {
      const text = cleaned();
      if (!text) throw new InputError("Paste the cheque's text first.");
      if (text.length > TEXT_CHARS_MAX) {
        throw new InputError("This is longer than any cheque: paste only the cheque's text.");
      }
      const attempt = { cheque: text, account_id: select.value };
      if (!lost || JSON.stringify(lost.body) !== JSON.stringify(attempt)) {
        lost = { body: attempt, key: newTransferId("prs") };
      }
      let paid;
      try {
        paid = await post("/v1/me/cheques/present", lost.body, lost.key);
        lost = null;
      } catch (error) {
        if (error instanceof ApiError) lost = null;  // answered: a new attempt next time
        throw error;
      }
      const exponent = Number(select.options[select.selectedIndex].dataset.exponent);
      const amount = formatMinor(paid.cheque.amount, exponent, paid.cheque.currency);
      if (paid.outcome === "collecting") {
        sayCheque(status, `The drawer's bank has accepted the cheque: ${amount} is on its way `
          + "through the clearing network and reaches your account when the transfer settles, "
          + "usually within seconds. Its state shows on the cheque's page.");
        status.dataset.cheque = paid.cheque.id;
        input.value = "";
        preview.hidden = true;
        return;
      }
      const account = await api(`/v1/me/accounts/${select.value}`);
      document.getElementById("present-amount").textContent = amount;
      document.getElementById("present-account-name").textContent = `${account.name} now holds`;
      document.getElementById("present-balance").textContent =
        formatMinor(account.booked, exponent, account.currency);
      result.hidden = false;
      sayCheque(status, `The cheque is paid: ${amount} is in your account ${account.name}.`);
      status.dataset.transfer = paid.transfer.id;
      input.value = "";
      preview.hidden = true;
    });
  });
}
