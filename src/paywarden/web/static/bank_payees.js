// Payees: confirmation of payee while the name and IBAN are typed, adding one with a passkey
// step-up over {type: "new_payee", amount: 0, currency, payee: <IBAN>, reference: <name>}
// (the IBAN and name as the check normalised them), its cooling-off shown with its end, a
// security tip at that moment, and deleting one (behind a second click).
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
const copTip = document.getElementById("cop-tip");
const useName = document.getElementById("cop-use-name");
const checkedField = document.getElementById("cop-checked-field");
const checkedBox = document.getElementById("cop-checked");
const tip = document.getElementById("payee-tip");
const CHECK_DELAY_MS = 400;
const IBAN_CHARS_MIN = 15;  // Norway's, the shortest

// A short headline per answer; the API's tip under it says what to do.
const ANSWERS = {
  match: () => "Name matches the account",
  close_match: (c) => `Close match: the account is held by ${c.holder_name}`,
  no_match: () => "No match: this is not the name on the account",
  unavailable: () => "Name not checked: the account is at another bank",
};

const element = (tag, text = "", className = "") => {
  const made = document.createElement(tag);
  if (text) made.textContent = text;
  if (className) made.className = className;
  return made;
};

export function payeeItem(payee) {
  const li = element("li", "", "payee");
  li.dataset.payee = payee.id;
  li.dataset.state = payee.state;
  const who = element("div", "", "payee-who");
  who.append(element("strong", payee.name), element("span", groupIban(payee.iban), "mono"));
  const state = element("span", payee.state === "cooling"
    ? `Cooling off until ${when(payee.cooling_off_until)}` : "Active",
  payee.state === "cooling" ? "badge badge-warn" : "badge badge-ok");
  const actions = element("div", "", "payee-actions");
  const pay = element("a", "Send money", "button small");
  pay.href = `/bank/transfers?payee=${encodeURIComponent(payee.id)}`;
  const remove = element("button", "Delete", "button secondary small delete-payee");
  remove.type = "button";
  remove.addEventListener("click", () => {
    if (remove.dataset.armed !== "yes") {  // a second click deletes
      remove.dataset.armed = "yes";
      remove.textContent = "Delete, and cancel its standing orders";
      remove.classList.replace("secondary", "danger");
      return;
    }
    busy(remove, status, async () => {
      await api(`/v1/me/payees/${payee.id}`, { method: "DELETE" });
      await load();
      showStatus(status, `${payee.name} was deleted, with any standing orders to them.`, "ok");
    });
  });
  actions.append(pay, remove);
  li.append(who, state, actions);
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
function showAnswer(result, text, tipText = "") {
  cop.dataset.result = result;
  copAnswer.textContent = text;
  copTip.textContent = tipText;
  copTip.hidden = !tipText;
  useName.hidden = result !== "close_match";
  checkedField.hidden = result !== "no_match";
  checkedBox.checked = false;
  cop.hidden = !text;
}

async function check() {
  const name = nameInput.value.trim();
  const iban = ibanInput.value.replace(/\s+/g, "");
  checked = null;
  const mine = ++asked;
  if (!name || iban.length < IBAN_CHARS_MIN) {
    showAnswer("", "");
    return;
  }
  try {
    const answer = await api("/v1/me/payees/check", { method: "POST", body: { name, iban } });
    if (mine !== asked) return;
    checked = answer;
    showAnswer(answer.result, ANSWERS[answer.result](answer), answer.tip);
  } catch (error) {
    if (mine !== asked) return;
    showAnswer("error", {
      iban_invalid: "This IBAN is not valid: check it for a typing mistake.",
      payee_name_invalid: "Enter the name in ordinary letters, up to 70 characters.",
    }[error.code] || "We could not check these details just now.");
  }
}
const soon = () => {
  checked = null;  // what is on screen is no longer what was checked
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
    if (!checked) await check();
    if (!checked) throw new InputError("Enter the payee's name and their full IBAN.");
    if (checked.result === "no_match" && !checkedBox.checked) {
      throw new InputError("The name does not match this account. Check the details with "
        + "the payee in a way you already trust; to add them anyway, tick the box.");
    }
    const { iban, name } = checked;
    tip.hidden = true;
    showStatus(status, `Confirm ${name} (${groupIban(iban)}) with your passkey…`, "info");
    const approved = await confirmOperation(undefined, undefined, {
      type: "new_payee", amount: 0, currency: payCurrency, payee: iban, reference: name,
    });
    const added = await api("/v1/me/payees", { method: "POST", body: {
      name, iban, currency: payCurrency, evidence_id: approved.evidence_id,
    } });
    document.getElementById("payee-form").reset();
    checked = null;
    showAnswer("", "");
    document.getElementById("payee-tip-text").textContent = added.tip || "";
    tip.hidden = !added.tip;
    const small = formatMinor(added.cooling_amount_max, Number(section.exponent), payCurrency);
    await load();
    showStatus(status, `${added.name} was added. Until ${when(added.cooling_off_until)} it `
      + `can receive ${small} in all; after that, any amount within your limits.`, "ok");
    status.dataset.payee = added.id;
  });
});

load().catch((error) => fail(status, error));
