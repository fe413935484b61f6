// An account's details: copy the IBAN, its history (filters, older pages by cursor) and
// statement downloads. Every value is written as text (textContent), never as HTML.
import { ApiError, api, showStatus } from "./webauthn.js";
import { InputError, explain, fail, formatMinor, toMinor } from "./bankkit.js";

const status = document.getElementById("status");
const copy = document.getElementById("copy-iban");
const account = document.getElementById("account").dataset;
const exponent = Number(account.exponent);

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

const statementForm = document.getElementById("statement-form");
if (statementForm) {
  const button = document.getElementById("statement-download");
  statementForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const from = document.getElementById("statement-from").value;
      const to = document.getElementById("statement-to").value;
      if (!from || !to) throw new InputError("Choose the first and the last day.");
      if (from > to) throw new InputError("The first day must not be after the last day.");
      const q = new URLSearchParams({
        from, to, format: document.getElementById("statement-format").value,
      });
      const response = await fetch(`/v1/me/accounts/${account.account}/statements?${q}`, {
        credentials: "same-origin", cache: "no-store", redirect: "error",
      });
      if (!response.ok) {
        let problem = {};
        try { problem = await response.json(); } catch { problem = {}; }
        throw new ApiError(response.status, problem.code || `http_${response.status}`,
          problem.detail || "the statement could not be made");
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const named = /filename="([A-Za-z0-9._-]+)"/.exec(disposition);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = named ? named[1] : "statement";
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      showStatus(status, `Your statement ${link.download} was downloaded.`, "ok");
    } catch (error) {
      fail(status, error);
    } finally {
      button.disabled = false;
    }
  });
}
