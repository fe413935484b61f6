// Send money to a payee, confirmed with a passkey step-up over the exact transfer
// {type: "transfer", amount, currency, payee: <the payee's IBAN>, reference}; and the
// customer's recent transfers, newest first, older pages by cursor.
import { api, confirmOperation, showStatus } from "./webauthn.js";
import {
  InputError, busy, fail, formatMinor, groupIban, newTransferId, refreshBalances, toMinor, when,
} from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("transfer-form");
const STATES = { posted: "Done", pending: "On its way", held: "Held for review",
  voided: "Returned", failed: "Failed" };
const EXPONENTS = {};
const chosen = (select) => select.options[select.selectedIndex].dataset;

// --- recent transfers ------------------------------------------------------------------

const body = document.querySelector("#transfers tbody");
const more = document.getElementById("transfers-more");
let cursor = null;

async function loadTransfers(fresh) {
  const q = cursor && !fresh ? `?cursor=${encodeURIComponent(cursor)}` : "";
  const page = await api(`/v1/me/transfers${q}`);
  if (fresh) body.replaceChildren();
  for (const t of page.data) {
    const row = body.insertRow();
    row.dataset.transfer = t.id;
    row.dataset.state = t.state;
    const cell = (text, className = "", label = "") => {
      const td = row.insertCell();
      td.textContent = text;
      td.className = className;
      if (label) td.dataset.label = label;
      return td;
    };
    cell(when(t.created_at), "when", "Date");
    const details = cell("", "details", "Details");
    const lines = document.createElement("span");  // one block, also when stacked
    const who = document.createElement("span");
    who.textContent = t.direction === "own" ? "Between your accounts"
      : t.direction === "in" ? "Received" : t.counterparty_name || "";
    lines.append(who);
    for (const [text, className] of [
      [t.direction === "out" && t.counterparty_iban ? groupIban(t.counterparty_iban) : "",
        "mono"],
      [t.reference, ""],
    ]) {
      if (!text) continue;
      const small = document.createElement("small");
      small.textContent = text;
      if (className) small.className = className;
      lines.append(small);
    }
    details.append(lines);
    cell(STATES[t.state] || t.state, "state", "State");
    const exponent = EXPONENTS[t.currency] ?? 2;
    const signed = t.direction === "out" ? -t.amount : t.amount;
    cell(formatMinor(signed, exponent, t.currency), t.direction === "in" ? "num in" : "num",
      "Amount");
  }
  cursor = page.next_cursor;
  more.hidden = !cursor;
  document.getElementById("no-transfers").hidden = body.rows.length > 0;
}
more.addEventListener("click", () => loadTransfers(false).catch((e) => fail(status, e)));

// --- send ------------------------------------------------------------------------------

if (form) {
  const from = document.getElementById("transfer-from");
  const payeeSelect = document.getElementById("transfer-payee");
  const cooling = document.getElementById("payee-cooling");
  let payees = new Map();
  let transferId = newTransferId("trf");
  for (const option of from.options) {
    EXPONENTS[option.dataset.currency] = Number(option.dataset.exponent);
  }

  const showPayee = () => {
    const payee = payees.get(payeeSelect.value);
    cooling.hidden = !payee || payee.state !== "cooling";
    if (payee && payee.state === "cooling") {
      const { currency, exponent } = chosen(from);
      cooling.textContent = `${payee.name} is new: until ${when(payee.cooling_off_until)} `
        + `it can receive ${formatMinor(payee.cooling_amount_max, Number(exponent), currency)} `
        + "in all.";
    }
  };
  const showCurrency = () => {
    document.getElementById("transfer-currency").textContent = `(${chosen(from).currency})`;
    showPayee();
  };

  const loadPayees = async () => {
    const { data } = await api("/v1/me/payees");
    payees = new Map(data.map((p) => [p.id, p]));
    payeeSelect.replaceChildren(...data.map((p) => {
      const option = document.createElement("option");
      option.value = p.id;
      option.textContent = `${p.name} · ${groupIban(p.iban)}`
        + (p.state === "cooling" ? " (cooling off)" : "");
      return option;
    }));
    const wanted = new URLSearchParams(window.location.search).get("payee");
    if (wanted && payees.has(wanted)) payeeSelect.value = wanted;
    document.getElementById("no-payee").hidden = data.length > 0;
    document.getElementById("payee-field").hidden = data.length === 0;
    document.getElementById("send").disabled = data.length === 0;
    showPayee();
  };

  from.addEventListener("change", showCurrency);
  payeeSelect.addEventListener("change", showPayee);
  showCurrency();
  loadPayees().catch((error) => fail(status, error));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("send"), status, async () => {
      const payee = payees.get(payeeSelect.value);
      if (!payee) throw new InputError("Choose a payee, or add one first.");
      const { currency, exponent } = chosen(from);
      const amount = toMinor(document.getElementById("transfer-amount").value,
        Number(exponent));
      const reference = document.getElementById("transfer-reference").value.trim();
      const shown = formatMinor(amount, Number(exponent), currency);
      showStatus(status, `Confirm ${shown} to ${payee.name} with your passkey…`, "info");
      const approved = await confirmOperation(undefined, undefined, {
        type: "transfer", amount, currency, payee: payee.iban, reference,
      });
      const done = await api("/v1/me/transfers", { method: "POST", body: {
        id: transferId, from_account: from.value, payee_id: payee.id, amount, currency,
        reference, evidence_id: approved.evidence_id,
      } });
      transferId = newTransferId("trf");
      document.getElementById("transfer-amount").value = "";
      document.getElementById("transfer-reference").value = "";
      const outcome = {
        posted: `Sent ${shown} to ${payee.name}.`,
        pending: `${shown} is on its way to ${payee.name}'s bank.`,
        held: `${shown} to ${payee.name} is held for a security review; we will tell you `
          + "the outcome.",
      }[done.state] || `The transfer of ${shown} ${done.state}.`;
      await Promise.all([refreshBalances(), loadTransfers(true)]);
      showStatus(status, outcome, done.state === "failed" ? "error" : "ok");
      status.dataset.transfer = done.id;
    });
  });
}

loadTransfers(true).catch((error) => fail(status, error));
