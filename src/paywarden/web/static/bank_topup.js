// Wallet top-up: from a card, confirmed with a passkey step-up over the exact operation
// {type: "top_up", amount, currency, payee: <wallet id>, reference: <card token>}; or from
// one of the customer's own accounts (the money stays theirs: no passkey).
import { api, confirmOperation, showStatus } from "./webauthn.js";
import { InputError, busy, formatMinor, newTransferId, refreshBalances, toMinor } from "./bankkit.js";

const status = document.getElementById("status");
const chosen = (select) => select.options[select.selectedIndex].dataset;

const openWallet = document.getElementById("open-wallet");
if (openWallet) {
  openWallet.addEventListener("click", () => busy(openWallet, status, async () => {
    await api("/v1/me/accounts", { method: "POST",
      body: { product: "wallet", currency: "EUR", name: "Wallet" } });
    window.location.reload();
  }));
}

const cardForm = document.getElementById("card-form");
const cardToken = document.getElementById("card-token");
if (cardForm && cardToken) {
  const wallet = document.getElementById("card-wallet");
  const hint = document.getElementById("card-currency");
  const showCurrency = () => { hint.textContent = `(${chosen(wallet).currency})`; };
  wallet.addEventListener("change", showCurrency);
  showCurrency();
  let topUpId = newTransferId("top");  // kept until it succeeds: a retry is answered once

  cardForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("top-up-card"), status, async () => {
      const { currency, exponent } = chosen(wallet);
      const amount = toMinor(document.getElementById("card-amount").value, Number(exponent));
      const shown = formatMinor(amount, Number(exponent), currency);
      showStatus(status, `Confirm the top-up of ${shown} with your passkey…`, "info");
      const approved = await confirmOperation(undefined, undefined, {
        type: "top_up", amount, currency, payee: wallet.value, reference: cardToken.value,
      });
      const done = await api("/v1/me/wallet/top-ups", { method: "POST", body: {
        id: topUpId, wallet: wallet.value, card_token: cardToken.value, amount, currency,
        evidence_id: approved.evidence_id,
      } });
      topUpId = newTransferId("top");
      document.getElementById("card-amount").value = "";
      await refreshBalances();
      showStatus(status, `Your wallet was topped up with ${shown}.`, "ok");
      status.dataset.transfer = done.id;
    });
  });
}

const accountForm = document.getElementById("account-form");
if (accountForm) {
  const from = document.getElementById("account-from");
  const wallet = document.getElementById("account-wallet");
  let transferId = newTransferId("own");

  accountForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(document.getElementById("top-up-account"), status, async () => {
      const { currency, exponent } = chosen(from);
      if (chosen(wallet).currency !== currency) {
        throw new InputError("The account and the wallet must be in the same currency.");
      }
      const amount = toMinor(document.getElementById("account-amount").value, Number(exponent));
      const done = await api("/v1/me/transfers/own", { method: "POST", body: {
        id: transferId, from_account: from.value, to_account: wallet.value, amount, currency,
        reference: "wallet top-up",
      } });
      transferId = newTransferId("own");
      document.getElementById("account-amount").value = "";
      await refreshBalances();
      showStatus(status, `Your wallet was topped up with `
        + `${formatMinor(amount, Number(exponent), currency)}.`, "ok");
      status.dataset.transfer = done.id;
    });
  });
}
