// Standing orders: preview (the schedule in words), confirm with a passkey step-up over the
// operation the preview names, list with their next date, cancel.
import { api, confirmOperation, showStatus } from "./webauthn.js";
import { InputError, busy, fail, formatMinor, groupIban, toMinor } from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("order-form");
const list = document.getElementById("orders");
const STATES = { active: "Active", ended: "Ended", cancelled: "Cancelled" };
const exponents = {};
let payees = new Map();

function orderItem(order) {
  const li = document.createElement("li");
  li.className = "order";
  li.dataset.order = order.id;
  li.dataset.state = order.state;
  const what = document.createElement("strong");
  const payee = payees.get(order.payee_id);
  what.textContent = `${formatMinor(order.amount, exponents[order.currency] ?? 2, order.currency)}`
    + ` to ${payee ? payee.name : groupIban(order.payee_iban)}`;
  const schedule = document.createElement("small");
  schedule.textContent = order.schedule;
  const state = document.createElement("span");
  state.className = order.state === "active" ? "badge badge-ok" : "badge badge-neutral";
  state.textContent = order.state === "active" && order.next_on
    ? `Next on ${order.next_on}` : STATES[order.state] || order.state;
  li.append(what, " ", state, schedule);
  if (order.reason) {
    const why = document.createElement("small");
    why.textContent = order.reason;
    li.append(why);
  }
  if (order.state === "active") {
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button secondary small cancel-order";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => busy(cancel, status, async () => {
      await api(`/v1/me/standing-orders/${order.id}`, { method: "DELETE" });
      showStatus(status, "The standing order was cancelled.", "ok");
      await loadOrders();
    }));
    li.append(cancel);
  }
  return li;
}

async function loadOrders() {
  const { data } = await api("/v1/me/standing-orders");
  list.replaceChildren(...data.map(orderItem));
  document.getElementById("no-orders").hidden = data.length > 0;
}

async function loadPayees() {
  const { data } = await api("/v1/me/payees");
  payees = new Map(data.map((p) => [p.id, p]));
  const select = document.getElementById("order-payee");
  if (!select) return;
  select.replaceChildren(...data.map((p) => {
    const option = document.createElement("option");
    option.value = p.id;
    option.textContent = `${p.name} · ${groupIban(p.iban)}`;
    return option;
  }));
}

if (form) {
  const from = document.getElementById("order-from");
  for (const option of from.options) {
    exponents[option.dataset.currency] = Number(option.dataset.exponent);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("order-create"), status, async () => {
      const { currency, exponent } = from.options[from.selectedIndex].dataset;
      const payeeId = document.getElementById("order-payee").value;
      if (!payeeId) throw new InputError("Choose a payee, or add one first.");
      const frequency = document.getElementById("order-frequency").value;
      const startOn = document.getElementById("order-start").value;
      const endOn = document.getElementById("order-end").value;
      if (!startOn) throw new InputError("Choose the date of the first payment.");
      if (frequency !== "once" && !endOn) {
        throw new InputError("Choose the last possible date: a standing order has an end.");
      }
      const body = {
        from_account: from.value, payee_id: payeeId, currency,
        amount: toMinor(document.getElementById("order-amount").value, Number(exponent)),
        reference: document.getElementById("order-reference").value.trim(), frequency,
        start_on: startOn, end_on: frequency === "once" ? startOn : endOn,
      };
      const preview = await api("/v1/me/standing-orders/preview", { method: "POST", body });
      const shown = document.getElementById("order-schedule");
      shown.textContent = `You are setting up: ${preview.schedule}.`;
      shown.hidden = false;
      showStatus(status, "Confirm this standing order with your passkey…", "info");
      const approved = await confirmOperation(undefined, undefined, preview.step_up);
      await api("/v1/me/standing-orders", { method: "POST",
        body: { ...body, evidence_id: approved.evidence_id } });
      shown.hidden = true;
      document.getElementById("order-amount").value = "";
      showStatus(status, `Standing order set up: ${preview.schedule}.`, "ok");
      await loadOrders();
    });
  });
}

loadPayees().then(loadOrders).catch((error) => fail(status, error));
