// Transfer limits per currency: lower at once, raise with a passkey step-up over
// {type: "limit_change", amount: <the new limit>, currency, payee: <kind>, reference: ""};
// a raise waits, shown with the time it takes effect.
import { api, confirmOperation, showStatus } from "./webauthn.js";
import { busy, fail, formatMinor, toMinor, when } from "./bankkit.js";

const status = document.getElementById("status");
const box = document.getElementById("limits");
const tip = document.getElementById("limit-tip");
const exponents = Object.fromEntries(box.dataset.exponents.trim().split(/\s+/).filter(Boolean)
  .map((pair) => { const [c, e] = pair.split(":"); return [c, Number(e)]; }));
const KINDS = { per_transfer: "Per transfer", per_day: "Per 24 hours",
  per_payee: "Per payee, 24 hours" };

function text(tag, content, className = "") {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
}

function limitCard(limit) {
  const exponent = exponents[limit.currency] ?? 2;
  const money = (minor) => formatMinor(minor, exponent, limit.currency);
  const form = document.createElement("form");
  form.className = "card limit";
  form.noValidate = true;
  form.dataset.kind = limit.kind;
  form.dataset.currency = limit.currency;
  form.append(text("h2", `${KINDS[limit.kind]} · ${limit.currency}`));
  const now = text("p", "", "limit-now");
  now.append(text("span", "In force now", "limit-label"), text("strong", money(limit.amount)),
    text("small", `The bank allows up to ${money(limit.bank_max)}.`));
  form.append(now);
  if (limit.pending_amount !== null) {
    form.append(text("p", `Raise to ${money(limit.pending_amount)} from `
      + `${when(limit.pending_from)}.`, "notice limit-pending"));
  }
  const label = text("label", "New limit ");
  const input = document.createElement("input");
  input.inputMode = "decimal";
  input.autocomplete = "off";
  input.className = "limit-amount";
  input.placeholder = "0.00";
  label.append(input);
  const button = text("button", "Change limit", "limit-change");
  button.type = "submit";
  form.append(label, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, status, async () => {
      const zero = /^0+(?:[.,]0*)?$/.test(input.value.trim());  // a limit of 0 stops all
      const amount = zero ? 0 : toMinor(input.value, exponent);
      const body = { currency: limit.currency, amount };
      if (amount > limit.amount) {
        showStatus(status, `Confirm the raise to ${money(amount)} with your passkey…`, "info");
        const approved = await confirmOperation(undefined, undefined, {
          type: "limit_change", amount, currency: limit.currency, payee: limit.kind,
          reference: "",
        });
        body.evidence_id = approved.evidence_id;
      }
      const made = await api(`/v1/me/limits/${limit.kind}`, { method: "PUT", body });
      document.getElementById("limit-tip-text").textContent = made.tip || "";
      tip.hidden = !made.tip;
      await load();  // the cards are fresh before the answer shows, so a next entry sticks
      showStatus(status, made.pending_amount !== null
        ? `The raise to ${money(made.pending_amount)} takes effect at ${when(made.pending_from)}.`
        : `Your limit is now ${money(made.amount)}.`, "ok");
    });
  });
  return form;
}

async function load() {
  const { data } = await api("/v1/me/limits");
  box.replaceChildren(...data.map(limitCard));
  document.getElementById("no-limits").hidden = data.length > 0;
}

load().catch((error) => fail(status, error));
