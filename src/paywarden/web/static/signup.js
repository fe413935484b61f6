// Sign-up: create the customer, set their phrase, register a first passkey with the
// enrolment token (kept in memory only), end that enrolment session, then sign in with
// the passkey.
import { api, registerPasskey, showError, showStatus, signInWithPasskey } from "./webauthn.js";

const form = document.getElementById("signup");
const status = document.getElementById("status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("create");
  button.disabled = true;
  const username = document.getElementById("username").value.trim();
  const displayName = document.getElementById("display-name").value.trim();
  const phrase = document.getElementById("phrase").value.trim();
  const name = document.getElementById("passkey-name").value.trim() || "passkey";
  try {
    showStatus(status, "Creating your account…");
    const created = await api("/v1/customers", {
      method: "POST", body: { username, display_name: displayName },
    });
    const token = created.enrolment_token;
    if (phrase) await api("/v1/me/phrase", { method: "PUT", token, body: { phrase } });
    showStatus(status, "Follow your browser's prompt to create a passkey…");
    await registerPasskey({ token, name });
    // The enrolment session's work is done: end it, so it is not left live (and listed
    // among the devices) until it times out. The passkey sign-in below starts the real one.
    await api("/v1/auth/sign-out", { method: "POST", token });
    showStatus(status, "Passkey created. Confirm it once more to sign in…");
    await signInWithPasskey({ username: created.username });
    showStatus(status, "Signed in.", "ok");
    window.location.assign("/account");
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
