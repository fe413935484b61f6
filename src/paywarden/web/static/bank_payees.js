// Payees: confirmation of payee while the name and IBAN are typed, adding one with a passkey
// step-up over {type: "new_payee", amount: 0, currency, payee: <IBAN>, reference: <name>},
// its cooling-off shown with its end, a security tip at that moment, and deleting one.
import { api, confirmOperation, showStatus } from "./webauthn.js";
import { InputError, busy, fail, formatMinor, groupIban, when } from "./bankkit.js";

const status = document.getElementById("status");
const list = document.getElementById("payees");
const none = document.getElementById("no-payees");
const section = document.getElementById("payees-section").dataset;
const payCurrency = section.currency;
const nameInput = document.getElementById("payee-name");
const ibanInput = document.getElementById("payee-iban");
const cop = document.getElementById("cop");
const copAnswer = document.getElementById("cop-answer");
const useName = document.getElementById("cop-use-name");
const tip = document.getElementById("payee-tip");
const CHECK_DELAY_MS = 400;
const IBAN_CHARS_MIN = 15;

const ANSWERS = {
  match: () => "The name matches the account.",
  close_match: (c) => `The account is held in a similar name: ${c.holder_name}.`,
  no_match: () => "The name does not match this account.",
  unavailable: () => "This account is at another bank: we cannot check the name.",
};

function showTip(text) {
  tip.textContent = text;
  tip.hidden = !text;
}

export function payeeItem(payee) {
  const li = document.createElement("li");
  li.className = "payee";
  li.dataset.payee = payee.id;
  li.dataset.state = payee.state;
  const name = document.createElement("strong");
  name.textContent = payee.name;
  const iban = document.createElement("span");
  iban.className = "mono";
  iban.textContent = groupIban(payee.iban);
  const state = document.createElement("span");
  state.className = payee.state === "cooling" ? "badge badge-warn" : "badge badge-ok";
  state.textContent = payee.state === "cooling"
    ? `Cooling off until ${when(payee.cooling_off_until)}` : "Active";
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "button secondary small delete-payee";
  remove.textContent = "Delete";
  remove.addEventListener("click", () => busy(remove, status, async () => {
    await api(`/v1/me/payees/${payee.id}`, { method: "DELETE" });
    showStatus(status, `${payee.name} was deleted.`, "ok");
    await load();
  }));
  li.append(name, iban, state, remove);
  return li;
}

async function load() {
  const { data } = await api("/v1/me/payees");
  list.replaceChildren(...data.map(payeeItem));
  none.hidden = data.length > 0;
}

// Confirmation of payee as they type: the latest answer wins, older ones are dropped.
let checked = null;
let asked = 0;
let timer = null;
async function check() {
  const name = nameInput.value.trim();
  const iban = ibanInput.value.replace(/\s+/g, "");
  checked = null;
  if (!name || iban.length < IBAN_CHARS_MIN) {
    cop.hidden = true;
    showTip("");
    return;
  }
  const mine = ++asked;
  try {
    const answer = await api("/v1/me/payees/check", { method: "POST", body: { name, iban } });
    if (mine !== asked) return;
    checked = answer;
    cop.dataset.result = answer.result;
    copAnswer.textContent = ANSWERS[answer.result](answer);
    useName.hidden = answer.result !== "close_match";
    cop.hidden = false;
    showTip(answer.tip);
  } catch (error) {
    if (mine !== asked) return;
    cop.dataset.result = "error";
    copAnswer.textContent = error.code === "iban_invalid"
      ? "This IBAN is not valid: check it for a typing mistake." : "";
    useName.hidden = true;
    cop.hidden = !copAnswer.textContent;
  }
}
const soon = () => {
  window.clearTimeout(timer);
  timer = window.setTimeout(check, CHECK_DELAY_MS);
};
nameInput.addEventListener("input", soon);
ibanInput.addEventListener("input", soon);
useName.addEventListener("click", () => {
  nameInput.value = checked.holder_name;
  check();
});

document.getElementById("payee-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy(document.getElementById("add-payee"), status, async () => {
    window.clearTimeout(timer);
    await check();
    if (!checked) throw new InputError("Enter the payee's name and their full IBAN.");
    const { iban, name } = checked;
    showStatus(status, `Confirm ${name} (${groupIban(iban)}) with your passkey…`, "info");
    const approved = await confirmOperation(undefined, undefined, {
      type: "new_payee", amount: 0, currency: payCurrency, payee: iban, reference: name,
    });
    const added = await api("/v1/me/payees", { method: "POST", body: {
      name, iban, currency: payCurrency, evidence_id: approved.evidence_id,
    } });
    document.getElementById("payee-form").reset();
    cop.hidden = true;
    showTip(added.tip);
    const small = formatMinor(added.cooling_amount_max, Number(section.exponent), payCurrency);
    showStatus(status, `${added.name} was added. Until ${when(added.cooling_off_until)} it `
      + `can receive ${small} in all; after that, any amount within your limits.`, "ok");
    status.dataset.payee = added.id;
    await load();
  });
});

load().catch((error) => fail(status, error));
