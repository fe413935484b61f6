// Passkey sign-in; on success the API has set the session cookie: go to the account.
import { showError, showStatus, signInWithPasskey } from "./webauthn.js";

const form = document.getElementById("signin");
const status = document.getElementById("status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("sign-in");
  button.disabled = true;
  const username = document.getElementById("username").value.trim();
  try {
    showStatus(status, "Follow your browser's prompt to use your passkey…");
    await signInWithPasskey({ username: username || undefined });
    showStatus(status, "Signed in.", "ok");
    window.location.assign("/account");
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
