// The security centre: sign out a device or all the others, add, rename or remove a
// passkey. Each change goes through the JSON API, then the page reloads with
// ?done=<what> so the tip for that moment is shown.
import { api, registerPasskey, showStatus } from "./webauthn.js";
import { busy, clearFormError, plain, reloadWith, showFormError } from "./portal.js";

const status = document.getElementById("status");

function failed(error, messages) {
  showStatus(status, plain(error, messages), "error");
  status.dataset.code = (error && error.code) || (error && error.name) || "error";
}

for (const button of document.querySelectorAll(".revoke-session")) {
  button.addEventListener("click", async () => {
    try {
      await busy(button, () => api(`/v1/me/sessions/${button.dataset.session}`,
        { method: "DELETE" }));
      reloadWith("session_revoked", "sessions");
    } catch (error) {
      failed(error, { not_found: "That device was already signed out. Reload the page." });
    }
  });
}

const others = document.getElementById("revoke-others");
if (others) {
  others.addEventListener("click", async () => {
    try {
      await busy(others, () => api("/v1/me/sessions/revoke-others", { method: "POST" }));
      reloadWith("others_revoked", "sessions");
    } catch (error) {
      failed(error);
    }
  });
}

for (const button of document.querySelectorAll(".revoke-passkey")) {
  button.addEventListener("click", async () => {
    // A removed passkey cannot be brought back: ask once, in words.
    if (!window.confirm(`Remove the passkey "${button.dataset.name}"? It will no longer `
      + "sign in to your account.")) return;
    try {
      await busy(button, () => api(
        `/v1/auth/passkeys/${encodeURIComponent(button.dataset.passkey)}`,
        { method: "DELETE" }));
      reloadWith("passkey_revoked", "passkeys");
    } catch (error) {
      failed(error, { not_found: "That passkey was already removed. Reload the page." });
    }
  });
}

for (const form of document.querySelectorAll(".rename-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector(".form-error");
    clearFormError(error);
    const name = form.querySelector(".rename-name").value.trim();
    try {
      await busy(form.querySelector("button"), () => api(
        `/v1/auth/passkeys/${encodeURIComponent(form.dataset.passkey)}`,
        { method: "PATCH", body: { name } }));
      reloadWith("passkey_renamed", "passkeys");
    } catch (failure) {
      showFormError(error, failure, {
        validation_failed: "Give the passkey a name of 1 to 64 ordinary characters.",
      });
    }
  });
}

const addForm = document.getElementById("add-passkey-form");
addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("add-passkey-error");
  clearFormError(error);
  const name = document.getElementById("passkey-name").value.trim() || "passkey";
  try {
    showStatus(status, "Follow your browser's prompt to create the passkey…");
    await busy(document.getElementById("add-passkey"), () => registerPasskey({ name }));
    reloadWith("passkey_added", "passkeys");
  } catch (failure) {
    showStatus(status, "");
    showFormError(error, failure, {
      validation_failed: "Give the passkey a name of 1 to 64 ordinary characters.",
    });
  }
});
