// Customer lookup (decision 0046, 0048): find by exact username or IBAN, show the masked
// profile the API answers, and reveal one field whole for a stated reason. Every value
// is written as text, never as HTML; the API records each view and each reveal.
import { ApiError, api, describeError, showError, showStatus } from "./webauthn.js";

const $ = (id) => document.getElementById(id);
const status = $("status");
const profile = $("profile");
const revealStatus = $("reveal-status");

const PLAIN = {
  reveal_reason_required: "Say why you need to see this field: your reason is recorded.",
  read_only_role: "A supervisor reads only: a reveal is for support and risk.",
  lookup_query_invalid: "Write a username or an IBAN.",
  not_found: "No such customer.",
};

function words(error) {
  return error instanceof ApiError && PLAIN[error.code] ? PLAIN[error.code]
    : describeError(error);
}

function cell(row, label, text) {
  const td = row.insertCell();
  td.textContent = text;
  td.dataset.label = label;
}

function show(customer) {
  profile.dataset.id = customer.id;
  $("customer-id").textContent = customer.id;
  $("customer-status").textContent = customer.status;
  $("f-username").textContent = customer.username;
  $("f-display_name").textContent = customer.display_name ?? "none given";
  $("f-email").textContent = customer.email ?? "none given";
  $("f-iban").textContent = "masked";
  $("f-created").textContent = customer.created_at.slice(0, 10);
  const rows = $("account-rows");
  rows.replaceChildren();
  for (const account of customer.accounts) {
    const row = rows.insertRow();
    cell(row, "Account", account.id);
    cell(row, "Product", account.product);
    cell(row, "Currency", account.currency);
    cell(row, "IBAN", account.iban);
    cell(row, "State", account.state);
  }
  if (!customer.accounts.length) {
    const row = rows.insertRow();
    cell(row, "Account", "No account.");
  }
  $("cards").replaceChildren(...(customer.cards.length ? customer.cards : ["No card."])
    .map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
  for (const part of profile.querySelectorAll("[data-field]")) part.classList.remove("revealed");
  showStatus(revealStatus, "");
  profile.hidden = false;
}

$("find-customer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const by = document.querySelector("input[name='by']:checked").value;
  const query = $("query").value.trim();
  profile.hidden = true;
  if (!query) {
    showStatus(status, `Write the customer's exact ${by === "iban" ? "IBAN" : "username"}.`,
      "error");
    return;
  }
  try {
    const found = await api(`/v1/staff/customers?${by}=${encodeURIComponent(query)}`);
    if (!found.data.length) {
      showStatus(status, `No customer has exactly this ${by === "iban" ? "IBAN" : "username"}.`
        + " Check it with the customer.", "error");
      return;
    }
    show(found.data[0]);
    showStatus(status, "Found. This lookup is recorded.", "ok");
  } catch (error) {
    showError(status, error);
  }
});

for (const part of profile.querySelectorAll("[data-field]")) {
  const button = part.querySelector("button.reveal");
  if (!button) continue;
  button.addEventListener("click", async () => {
    const reason = $("reason").value.trim();
    if (!reason) {
      showStatus(revealStatus, "Write why you need to see it first: your reason is "
        + "recorded with your name.", "error");
      revealStatus.dataset.code = "reason_required";
      $("reason").focus();
      return;
    }
    button.disabled = true;
    try {
      const shown = await api(`/v1/staff/customers/${profile.dataset.id}/reveal`, {
        method: "POST", body: { field: part.dataset.field, reason } });
      part.querySelector(".value").textContent = shown.value ?? "none given";
      part.classList.add("revealed");
      showStatus(revealStatus, `Revealed. Recorded in the audit log with your reason: `
        + `“${reason}”.`, "ok");
    } catch (error) {
      showStatus(revealStatus, words(error), "error");
      revealStatus.dataset.code = error instanceof ApiError ? error.code : "error";
    } finally {
      button.disabled = false;
    }
  });
}
