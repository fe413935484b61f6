// The accounts overview: open an account (current, savings or a wallet) in a currency.
import { api, showStatus } from "./webauthn.js";
import { busy } from "./bankkit.js";

const status = document.getElementById("status");
const form = document.getElementById("open-form");
const product = document.getElementById("open-product");
const name = document.getElementById("open-name");
const NAMES = { current: "Everyday", savings: "Savings", wallet: "Wallet" };

product.addEventListener("change", () => { name.placeholder = NAMES[product.value]; });

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(document.getElementById("open"), status, async () => {
    const body = {
      product: product.value,
      currency: document.getElementById("open-currency").value.trim().toUpperCase(),
      name: name.value.trim() || NAMES[product.value],
    };
    const made = await api("/v1/me/accounts", { method: "POST", body });
    showStatus(status, `Opened ${made.name}: ${made.iban}.`, "ok");
    window.location.reload();
  });
});
