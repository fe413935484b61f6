// The account page: change the anti-phishing phrase, add a card, sign out.
import { api, showError, signOut } from "./webauthn.js";

const status = document.getElementById("status");

function failed(error) {
  showError(status, error);
}

document.getElementById("phrase-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const phrase = document.getElementById("new-phrase").value.trim();
  try {
    await api("/v1/me/phrase", { method: "PUT", body: { phrase } });
    window.location.reload();
  } catch (error) {
    failed(error);
  }
});

// The number goes to the vault and never comes back: the list shows brand and last four.
document.getElementById("card-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  try {
    await api("/v1/me/cards", {
      method: "POST",
      body: {
        number: value("card-number"),
        exp_month: Number(value("card-exp-month")),
        exp_year: Number(value("card-exp-year")),
        holder_name: value("card-holder"),
      },
    });
    window.location.reload();
  } catch (error) {
    failed(error);
  }
});

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await signOut();
    window.location.assign("/signin");
  } catch (error) {
    failed(error);
  }
});
