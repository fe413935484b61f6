// A joiner's one-time enrolment link, /staff/enrol#<token>: the token is read from the
// fragment (never sent to a server by the browser) and dropped from the address bar at
// once; it registers the member's passkey, the enrolment session is ended, and the member
// signs in with the new passkey and lands in the back office.
import { api, registerPasskey, showError, showStatus, signInWithPasskey } from "./webauthn.js";

const status = document.getElementById("status");
const form = document.getElementById("enrol");
const token = window.location.hash.slice(1);
if (token) window.history.replaceState(null, "", window.location.pathname);
if (!token) {
  showStatus(status, "This page needs the enrolment link you were given, whole: ask the "
    + "security administrator who created your account for a new one.", "error");
  form.hidden = true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("create");
  const username = document.getElementById("username").value.trim();
  if (!username) {
    showStatus(status, "Write your username: it was given to you with the link.", "error");
    return;
  }
  button.disabled = true;
  try {
    showStatus(status, "Follow your browser's prompt to create a passkey…");
    await registerPasskey({ token,
      name: document.getElementById("passkey-name").value.trim() || "passkey" });
    await api("/v1/auth/sign-out", { method: "POST", token });
    showStatus(status, "Passkey created. Confirm it once more to sign in…");
    await signInWithPasskey({ username });
    showStatus(status, "Signed in.", "ok");
    window.location.assign("/staff");
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
