// An account's details: copy the IBAN, its history (filters, older pages by cursor) and
// statement downloads. Every value is written as text (textContent), never as HTML.
import { ApiError, api, showStatus } from "./webauthn.js";
import { InputError, explain, formatMinor, statementForm, toMinor } from "./bankkit.js";

const status = document.getElementById("status");
const copy = document.getElementById("copy-iban");
const account = document.getElementById("account").dataset;
const exponent = Number(account.exponent);
const HISTORY_PAGE_SIZE = "20";

copy.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(copy.dataset.iban);
    showStatus(status, "IBAN copied.", "ok");
  } catch {
    const range = document.createRange();  // no clipboard: select it for the customer
    range.selectNodeContents(document.getElementById("iban"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    showStatus(status, "Copy the selected IBAN with your keyboard or menu.", "info");
  }
});

// --- history ---------------------------------------------------------------------------

const historyForm = document.getElementById("history-form");
if (historyForm) {
  const body = document.querySelector("#history tbody");
  const more = document.getElementById("history-more");
  const empty = document.getElementById("history-empty");
  const problem = document.getElementById("history-error");
  const value = (id) => document.getElementById(id).value.trim();
  let query = null;
  let cursor = null;

  const cell = (row, text, className = "", label = "") => {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    if (label) td.dataset.label = label;
    return td;
  };

  const filters = () => {
    const q = new URLSearchParams();
    if (value("history-from")) q.set("from", value("history-from"));
    if (value("history-to")) q.set("to", value("history-to"));
    if (value("history-min")) q.set("amount_min", toMinor(value("history-min"), exponent));
    if (value("history-max")) q.set("amount_max", toMinor(value("history-max"), exponent));
    if (value("history-text")) q.set("q", value("history-text"));
    return q;
  };

  const load = async (fresh) => {
    problem.hidden = true;
    try {
      if (fresh) {
        query = filters();
        cursor = null;
      }
      const q = new URLSearchParams(query);
      q.set("limit", HISTORY_PAGE_SIZE);
      if (cursor) q.set("cursor", cursor);
      const page = await api(`/v1/me/accounts/${account.account}/transactions?${q}`);
      if (fresh) body.replaceChildren();
      for (const item of page.data) {
        const row = body.insertRow();
        row.dataset.entry = item.id;
        row.dataset.state = item.state;
        cell(row, `${item.at.slice(0, 10)} ${item.at.slice(11, 16)}`, "when", "Date");
        const details = cell(row, item.counterparty || "—", "details", "Details");
        if (item.reference) {
          const ref = document.createElement("small");
          ref.textContent = item.reference;
          details.append(ref);
        }
        if (item.state === "pending") {
          const badge = document.createElement("span");
          badge.className = "badge badge-warn";
          badge.textContent = "Pending";
          details.append(" ", badge);
        }
        cell(row, formatMinor(item.amount, exponent, account.currency),
          `num ${item.amount < 0 ? "out" : "in"}`, "Amount");
        cell(row, formatMinor(item.balance_after, exponent, account.currency), "num",
          "Balance");
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = body.rows.length > 0 || Boolean(cursor);
    } catch (error) {
      problem.textContent = error instanceof InputError ? error.message : explain(error);
      problem.dataset.code = error instanceof ApiError ? error.code : "input_invalid";
      problem.hidden = false;
    }
  };

  historyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    load(true);
  });
  historyForm.addEventListener("reset", () => window.setTimeout(() => load(true), 0));
  more.addEventListener("click", () => load(false));
  load(true);
}

// --- statements ------------------------------------------------------------------------

statementForm(document.getElementById("statement-form"), status, () => account.account);
