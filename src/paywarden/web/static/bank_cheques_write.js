// Write a cheque: the API's draft gives the serial and the exact operation to approve
// {type: "cheque", amount, currency, payee: "<IBAN> <name>", reference: "cheque <serial> on
// <drawer IBAN> dated <day> until <day>"}; the drawer approves it with a passkey, the cheque
// is written with the evidence id, and its page opens (its text, to hand to the payee).
import { ApiError, confirmOperation } from "./webauthn.js";
import { InputError, formatMinor, groupIban, newTransferId, toMinor } from "./bankkit.js";
import { chequeBusy, post, sayCheque } from "./bank_cheques_kit.js";

const status = document.getElementById("status");
const form = document.getElementById("write-form");
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const VALIDITY_DAYS_MAX = 180;
const DAY_MS = 86_400_000;
// A write whose answer was lost (the network failed): the next click with the same terms
// sends the very same request under the same Idempotency-Key, so the API answers with the
// cheque it wrote instead of a second cheque (and the passkey is not asked again).
let lost = null;

const days = (from, to) => Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);

// The form's fields as the API takes them; a sentence for the customer if one is wrong.
function terms() {
  const from = document.getElementById("write-from");
  const account = from.options[from.selectedIndex].dataset;
  const name = document.getElementById("write-payee-name").value.trim().replace(/\s+/g, " ");
  const iban = document.getElementById("write-payee-iban").value.replace(/\s+/g, "")
    .toUpperCase();
  if (!name) throw new InputError("Enter the payee's name, as their account is held.");
  if (iban.length < 15) throw new InputError("Enter the payee's full IBAN.");
  if (iban === account.iban) throw new InputError("A cheque is made out to someone else's "
    + "account: to move money between your own accounts, use Move money.");
  const amount = toMinor(document.getElementById("write-amount").value,
    Number(account.exponent));
  const date = document.getElementById("write-date").value;
  const expires = document.getElementById("write-expires").value;
  if (!DAY.test(date) || !DAY.test(expires)) {
    throw new InputError("Choose the cheque's date and the day it is valid until.");
  }
  const valid = days(date, expires);
  if (valid < 1 || valid > VALIDITY_DAYS_MAX) {
    throw new InputError(`The cheque must stay valid for 1 to ${VALIDITY_DAYS_MAX} days after `
      + "its date: choose another day for Valid until.");
  }
  return {
    body: { account_id: from.value, payee_iban: iban, payee_name: name, amount,
      currency: account.currency, date, expires_on: expires },
    shown: formatMinor(amount, Number(account.exponent), account.currency),
  };
}

if (form) {
  const from = document.getElementById("write-from");
  const showCurrency = () => {
    document.getElementById("write-currency").textContent =
      `(${from.options[from.selectedIndex].dataset.currency})`;
  };
  from.addEventListener("change", showCurrency);
  showCurrency();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    chequeBusy(document.getElementById("write"), status, async () => {
      const { body, shown } = terms();
      let attempt = lost && lost.terms === JSON.stringify(body) ? lost : null;
      if (attempt === null) {
        const draft = await post("/v1/me/cheques/drafts", body);
        sayCheque(status, `Confirm cheque no. ${draft.serial} for ${shown} to `
          + `${body.payee_name} (${groupIban(body.payee_iban)}), dated ${body.date} and `
          + `valid until ${body.expires_on}, with your passkey…`, "info");
        const approved = await confirmOperation(undefined, undefined, draft.step_up);
        attempt = { terms: JSON.stringify(body), key: newTransferId("chq"),
          body: { ...body, serial: draft.serial, evidence_id: approved.evidence_id } };
      }
      let cheque;
      try {
        cheque = await post("/v1/me/cheques", attempt.body, attempt.key);
        lost = null;
      } catch (error) {
        lost = error instanceof ApiError ? null : attempt;  // no answer: retry the same
        throw error;
      }
      sayCheque(status, `Cheque no. ${cheque.serial} is written.`);
      window.location.assign(`/bank/cheques/${cheque.id}?done=written`);
    });
  });
}
