// The overview: change the anti-phishing phrase, add a card, sign out.
import { api, showError, signOut } from "./webauthn.js";
import { busy, clearFormError, showFormError } from "./portal.js";

const status = document.getElementById("status");

function onSubmit(formId, errorId, buttonId, send) {
  const form = document.getElementById(formId);
  const error = document.getElementById(errorId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(error);
    try {
      await busy(document.getElementById(buttonId), send);
      window.location.reload();
    } catch (failure) {
      showFormError(error, failure);
    }
  });
}

const value = (id) => document.getElementById(id).value.trim();

onSubmit("phrase-form", "phrase-error", "set-phrase",
  () => api("/v1/me/phrase", { method: "PUT", body: { phrase: value("new-phrase") } }));

// The number goes to the vault and never comes back: the list shows brand and last four.
onSubmit("card-form", "card-error", "add-card", () => api("/v1/me/cards", {
  method: "POST",
  body: {
    number: value("card-number"),
    exp_month: Number(value("card-exp-month")),
    exp_year: Number(value("card-exp-year")),
    holder_name: value("card-holder"),
  },
}));

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await signOut();
    window.location.assign("/signin");
  } catch (error) {
    showError(status, error);
  }
});
