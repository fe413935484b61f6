// An invitee's one-time link, /merchant/join#<token>: the token is read from the fragment
// (never sent to a server by the browser) and dropped from the address bar at once. The
// person accepts the invitation with a username of their choosing, registers their passkey
// with the enrolment session it answers, ends that session, signs in with the new passkey
// and lands on the merchant dashboard.
import { api, registerPasskey, showError, showStatus, signInWithPasskey } from "./webauthn.js";

const status = document.getElementById("status");
const form = document.getElementById("join");
const token = window.location.hash.slice(1);
if (token) window.history.replaceState(null, "", window.location.pathname);
if (!token) {
  showStatus(status, "This page needs the invitation link you were sent, whole: ask the "
    + "merchant's owner for a new one.", "error");
  form.hidden = true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("create");
  const username = document.getElementById("username").value.trim();
  if (username.length < 3) {
    showStatus(status, "Choose a username of at least 3 characters.", "error");
    return;
  }
  button.disabled = true;
  try {
    const joined = await api("/v1/merchant-invitations/accept", { method: "POST", body: {
      token, username, display_name: document.getElementById("display-name").value.trim() } });
    showStatus(status, "Follow your browser's prompt to create a passkey…");
    await registerPasskey({ token: joined.enrolment_token,
      name: document.getElementById("passkey-name").value.trim() || "passkey" });
    await api("/v1/auth/sign-out", { method: "POST", token: joined.enrolment_token });
    showStatus(status, "Passkey created. Confirm it once more to sign in…");
    await signInWithPasskey({ username });
    showStatus(status, "Signed in.", "ok");
    window.location.assign("/merchant");
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
