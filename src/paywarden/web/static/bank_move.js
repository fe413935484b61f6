// Between the customer's own accounts: no payee, no passkey (the money stays theirs).
import { api, showStatus } from "./webauthn.js";
import {
  InputError, busy, formatMinor, newTransferId, refreshBalances, toMinor,
} from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("move-form");

if (form) {
  const from = document.getElementById("move-from");
  const to = document.getElementById("move-to");
  const hint = document.getElementById("move-currency");
  let transferId = newTransferId("own");  // one per attempt: a retry is never applied twice
  const chosen = (select) => select.options[select.selectedIndex].dataset;

  const wanted = new URLSearchParams(window.location.search).get("from");
  if (wanted && [...from.options].some((o) => o.value === wanted)) {
    from.value = wanted;
    if (to.value === wanted) to.selectedIndex = from.selectedIndex === 0 ? 1 : 0;
  }
  const showCurrency = () => { hint.textContent = `(${chosen(from).currency})`; };
  from.addEventListener("change", showCurrency);
  showCurrency();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("move"), status, async () => {
      const source = chosen(from);
      if (from.value === to.value) throw new InputError("Choose two different accounts.");
      if (source.currency !== chosen(to).currency) {
        throw new InputError("Both accounts must be in the same currency.");
      }
      const exponent = Number(source.exponent);
      const amount = toMinor(document.getElementById("move-amount").value, exponent);
      const done = await api("/v1/me/transfers/own", { method: "POST", body: {
        id: transferId, from_account: from.value, to_account: to.value, amount,
        currency: source.currency,
        reference: document.getElementById("move-reference").value.trim(),
      } });
      transferId = newTransferId("own");
      document.getElementById("move-amount").value = "";
      document.getElementById("move-reference").value = "";
      await refreshBalances();
      showStatus(status, `Moved ${formatMinor(amount, exponent, source.currency)}`
        + (done.state === "posted" ? "." : ` (${done.state}).`), "ok");
      status.dataset.transfer = done.id;
    });
  });
}
