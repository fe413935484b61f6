// A payment file (pain.001): checked whole by the bank, confirmed with one passkey step-up
// over {type: "payment_file", amount: total, currency, payee: <account id>, reference:
// <the file's digest>}, then sent; each payment's outcome is shown.
import { ApiError, api, confirmOperation, showStatus } from "./webauthn.js";
import { InputError, busy, fail, formatMinor, refreshBalances } from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("file-form");
const STATES = { posted: "Done", pending: "On its way", held: "Held for review",
  voided: "Returned", failed: "Failed" };

// The file's bytes go as they are (application/xml): the bank reads the document itself.
async function postFile(path, bytes) {
  const response = await fetch(path, {
    method: "POST", body: bytes, credentials: "same-origin", cache: "no-store",
    redirect: "error", headers: { "Content-Type": "application/xml", Accept: "application/json" },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.code) || `http_${response.status}`,
      (data && data.detail) || "the request failed");
  }
  return data;
}

if (form) {
  const account = document.getElementById("file-account");
  const input = document.getElementById("file-input");
  const summary = document.getElementById("file-summary");
  const results = document.getElementById("file-results");
  let checked = null;

  const exponent = () => Number(account.options[account.selectedIndex].dataset.exponent);
  const reset = () => { checked = null; summary.hidden = true; };
  account.addEventListener("change", reset);
  input.addEventListener("change", reset);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("check"), status, async () => {
      const file = input.files[0];
      if (!file) throw new InputError("Choose a pain.001 file first.");
      const bytes = await file.arrayBuffer();
      const check = await postFile(`/v1/me/accounts/${account.value}/payment-files/check`,
        bytes);
      checked = { bytes, check, account: account.value };
      const total = formatMinor(check.total, exponent(), check.currency);
      document.getElementById("file-totals").textContent =
        `${check.payments} payment${check.payments === 1 ? "" : "s"}, ${total} in all.`;
      summary.hidden = false;
      results.hidden = true;
      showStatus(status, "The file reads well: confirm it with your passkey to send it.", "ok");
    });
  });

  document.getElementById("send-file").addEventListener("click", () => {
    busy(document.getElementById("send-file"), status, async () => {
      if (!checked) throw new InputError("Check the file first.");
      const { bytes, check } = checked;
      showStatus(status, "Confirm the file with your passkey…", "info");
      const approved = await confirmOperation(undefined, undefined, check.step_up);
      const done = await postFile(`/v1/me/accounts/${checked.account}/payment-files`
        + `?evidence_id=${encodeURIComponent(approved.evidence_id)}`, bytes);
      const body = document.querySelector("#results tbody");
      body.replaceChildren();
      let sent = 0;
      for (const r of done.results) {
        const row = body.insertRow();
        row.dataset.state = r.transfer ? r.transfer.state : "refused";
        const cells = [
          [r.transfer ? r.transfer.reference || r.end_to_end_id : r.end_to_end_id, "Payment"],
          [r.transfer ? STATES[r.transfer.state] || r.transfer.state : `Refused: ${r.detail}`,
            "State"],
          [r.transfer ? formatMinor(-r.transfer.amount, exponent(), r.transfer.currency) : "",
            "Amount"],
        ];
        cells.forEach(([text, label], i) => {
          const td = row.insertCell();
          td.textContent = text;
          td.dataset.label = label;
          if (i === 2) td.className = "num";
        });
        if (r.transfer) sent += 1;
      }
      results.hidden = false;
      summary.hidden = true;
      checked = null;
      input.value = "";
      await refreshBalances();
      showStatus(status, `${sent} of ${done.results.length} payments sent.`,
        sent === done.results.length ? "ok" : "error");
    });
  });
}
