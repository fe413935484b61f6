// Standing orders: the schedule in words previewed by the API as the form is filled in,
// confirmed with a passkey step-up over exactly the operation the preview names, listed
// with each order's latest occurrences (paid, or why not), and cancelled (a second click).
import { api, confirmOperation, showStatus } from "./webauthn.js";
import { InputError, busy, fail, formatMinor, groupIban, toMinor, when } from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("order-form");
const list = document.getElementById("orders");
const PREVIEW_DELAY_MS = 400;
const WATCH_INTERVAL_MS = 2_000;  // after making an order due today: until it has run
const WATCH_TIMES_MAX = 30;
const exponents = {};
let payees = new Map();

// What became of an occurrence, and why an order ended, in plain words.
const RUNS = { posted: "Paid", pending: "Sent: on its way to the payee's bank",
  held: "Held for a security review", voided: "Returned by the payee's bank" };
const NOT_PAID = {
  insufficient_funds: "not enough money in the account",
  account_frozen: "the account was frozen",
  account_closed: "the account is closed",
  limit_per_transfer_exceeded: "over your limit per transfer",
  limit_per_day_exceeded: "over your daily limit",
  limit_per_payee_exceeded: "over your daily limit for this payee",
  payee_cooling_off: "the payee was new and still cooling off",
  movement_declined: "declined by the bank's checks",
  payee_account_unknown: "no account has the payee's IBAN any more",
  currency_mismatch: "the payee's account is in another currency",
  not_found: "the payee was deleted",
};
const ENDED = { completed: "Ended: no payment is left to run.",
  cancelled: "You cancelled it.", payee_deleted: "Cancelled: its payee was deleted.",
  account_closed: "Ended: the account was closed.", not_found: "Ended: the payee was deleted." };
const element = (tag, text = "", className = "") => {
  const made = document.createElement(tag);
  if (text) made.textContent = text;
  if (className) made.className = className;
  return made;
};

function runItem(run) {
  const said = run.state === "failed"
    ? `Not paid, nothing moved: ${NOT_PAID[run.reason] || "it was refused"}`
    : RUNS[run.state] || run.state;
  const li = element("li", `${run.on} · ${said}`, "run");
  li.dataset.state = run.state;
  if (run.reason) li.dataset.reason = run.reason;
  return li;
}

function orderItem(order) {
  const li = element("li", "", "order");
  li.dataset.order = order.id;
  li.dataset.state = order.state;
  const payee = payees.get(order.payee_id);
  const amount = formatMinor(order.amount, exponents[order.currency] ?? 2, order.currency);
  const head = element("div", "", "order-head");
  head.append(element("strong", `${amount} to ${payee ? payee.name : groupIban(order.payee_iban)}`),
    element("span", order.state === "active" && order.next_on ? `Next on ${order.next_on}`
      : { ended: "Ended", cancelled: "Cancelled" }[order.state] || order.state,
    order.state === "active" ? "badge badge-ok" : "badge badge-neutral"));
  li.append(head, element("small", order.schedule, "order-schedule"));
  if (order.state !== "active" && order.reason) {
    li.append(element("small", ENDED[order.reason] || NOT_PAID[order.reason] || "",
      "order-reason"));
  }
  if (order.runs.length) {
    const runs = element("ul", "", "runs");
    runs.setAttribute("aria-label", "Latest payments");
    runs.append(...order.runs.map(runItem));
    li.append(runs);
  }
  if (order.state === "active") {
    const cancel = element("button", "Cancel", "button secondary small cancel-order");
    cancel.type = "button";
    cancel.addEventListener("click", () => {
      if (cancel.dataset.armed !== "yes") {  // a second click cancels
        cancel.dataset.armed = "yes";
        cancel.textContent = "Cancel all its future payments";
        cancel.classList.replace("secondary", "danger");
        return;
      }
      busy(cancel, status, async () => {
        await api(`/v1/me/standing-orders/${order.id}`, { method: "DELETE" });
        await loadOrders();
        showStatus(status, "The standing order was cancelled: nothing more will be paid.",
          "ok");
      });
    });
    li.append(cancel);
  }
  return li;
}

async function loadOrders() {
  const { data } = await api("/v1/me/standing-orders");
  list.replaceChildren(...data.map(orderItem));
  document.getElementById("no-orders").hidden = data.length > 0;
  return data;
}

// An order due today is paid by the bank's next pass: show it when it has run.
async function watch(orderId) {
  for (let n = 0; n < WATCH_TIMES_MAX; n += 1) {
    await new Promise((resolve) => { window.setTimeout(resolve, WATCH_INTERVAL_MS); });
    const order = (await loadOrders()).find((o) => o.id === orderId);
    if (!order || order.runs.length) return;
  }
}

async function loadPayees() {
  const { data } = await api("/v1/me/payees");
  payees = new Map(data.map((p) => [p.id, p]));
  const select = document.getElementById("order-payee");
  if (!select) return;
  select.replaceChildren(...data.map((p) => {
    const option = element("option", `${p.name} · ${groupIban(p.iban)}`
      + (p.state === "cooling" ? ` (cooling off until ${when(p.cooling_off_until)})` : ""));
    option.value = p.id;
    return option;
  }));
  document.getElementById("no-payee").hidden = data.length > 0;
  document.getElementById("order-payee-field").hidden = data.length === 0;
  document.getElementById("order-create").disabled = data.length === 0;
}

if (form) {
  const from = document.getElementById("order-from");
  const frequency = document.getElementById("order-frequency");
  const shown = document.getElementById("order-schedule");
  const value = (id) => document.getElementById(id).value;
  for (const option of from.options) {
    exponents[option.dataset.currency] = Number(option.dataset.exponent);
  }

  // The order as the form says now; InputError when it is not complete.
  const body = () => {
    const { currency, exponent } = from.options[from.selectedIndex].dataset;
    if (!value("order-payee")) throw new InputError("Choose a payee, or add one first.");
    if (!value("order-start")) throw new InputError("Choose the date of the first payment.");
    const once = frequency.value === "once";
    if (!once && !value("order-end")) {
      throw new InputError("Choose the last possible date: a standing order has an end.");
    }
    return {
      from_account: from.value, payee_id: value("order-payee"), currency,
      amount: toMinor(value("order-amount"), Number(exponent)),
      reference: value("order-reference").trim(), frequency: frequency.value,
      start_on: value("order-start"), end_on: once ? value("order-start") : value("order-end"),
    };
  };
  const describe = (order, preview) => {
    const payee = payees.get(order.payee_id);
    const amount = formatMinor(order.amount, exponents[order.currency], order.currency);
    return `${amount} to ${payee ? payee.name : "the payee"}, ${preview.schedule}.`;
  };

  // The schedule in words, from the API, as the form is filled in; the latest answer wins.
  let asked = 0;
  let timer = null;
  const preview = async () => {
    const mine = ++asked;
    let order;
    try {
      order = body();
    } catch {
      shown.hidden = true;  // not complete yet: nothing to say
      return;
    }
    try {
      const answer = await api("/v1/me/standing-orders/preview", { method: "POST", body: order });
      if (mine !== asked) return;
      shown.textContent = `You will confirm: ${describe(order, answer)}`;
      shown.dataset.kind = "ok";
    } catch (error) {
      if (mine !== asked) return;
      shown.textContent = error.code === "schedule_invalid"
        ? "These dates do not make a schedule: the first payment is today or later, and the "
          + "last possible date is on or after it, within ten years."
        : "We could not check this order just now.";
      shown.dataset.kind = "error";
    }
    shown.hidden = false;
  };
  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, PREVIEW_DELAY_MS);
  };
  const showFrequency = () => {
    document.getElementById("order-end-field").hidden = frequency.value === "once";
  };
  const showCurrency = () => {
    document.getElementById("order-currency").textContent =
      `(${from.options[from.selectedIndex].dataset.currency})`;
  };
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  frequency.addEventListener("change", showFrequency);
  from.addEventListener("change", showCurrency);
  showFrequency();
  showCurrency();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("order-create"), status, async () => {
      window.clearTimeout(timer);
      asked += 1;  // a preview still on its way is stale now
      const order = body();
      const answer = await api("/v1/me/standing-orders/preview", { method: "POST",
        body: order });
      const said = describe(order, answer);
      shown.textContent = `You will confirm: ${said}`;
      shown.dataset.kind = "ok";
      shown.hidden = false;
      showStatus(status, "Confirm this standing order with your passkey…", "info");
      const approved = await confirmOperation(undefined, undefined, answer.step_up);
      const made = await api("/v1/me/standing-orders", { method: "POST",
        body: { ...order, evidence_id: approved.evidence_id } });
      shown.hidden = true;
      document.getElementById("order-amount").value = "";
      document.getElementById("order-reference").value = "";
      await loadOrders();
      showStatus(status, `Standing order set up: ${said}`, "ok");
      status.dataset.order = made.id;
      const today = document.getElementById("order-start").min;
      if (made.next_on && made.next_on <= today) {
        watch(made.id).catch((error) => fail(status, error));
      }
    });
  });
}

loadPayees().then(loadOrders).catch((error) => fail(status, error));
