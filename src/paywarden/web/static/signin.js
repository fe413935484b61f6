// Passkey sign-in; on success the API has set the session cookie: go to the account.
import { showError, showStatus, signInWithPasskey } from "./webauthn.js";

const form = document.getElementById("signin");
// Back to the page that sent the buyer here (e.g. a checkout), if it is a path on this site.
const next = new URLSearchParams(window.location.search).get("next");
const destination = next && /^\/(?![\/\\])[A-Za-z0-9\/_.~-]{0,200}$/.test(next) ? next : "/account";
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
    window.location.assign(destination);
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
