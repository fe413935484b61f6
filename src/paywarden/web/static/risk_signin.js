// Staff sign-in: password first (the API answers the anti-phishing phrase and a short-lived
// first-factor token), then the authenticator code with that token; the API sets the
// session cookie and the queue opens.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");
const passwordForm = document.getElementById("password-form");
const codeForm = document.getElementById("code-form");
let pending = null;

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("next");
  button.disabled = true;
  try {
    const first = await api("/v1/auth/password", { method: "POST", body: {
      username: document.getElementById("username").value.trim(),
      password: document.getElementById("password").value } });
    pending = first.first_factor_token;
    document.getElementById("phrase").textContent = first.anti_phishing_phrase || "(none set)";
    passwordForm.hidden = true;
    codeForm.hidden = false;
    showStatus(status, "");
    document.getElementById("totp").focus();
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});

codeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("sign-in");
  button.disabled = true;
  try {
    await api("/v1/auth/password/second-factor", { method: "POST", token: pending,
      body: { totp: document.getElementById("totp").value.trim() } });
    showStatus(status, "Signed in.", "ok");
    window.location.assign("/risk");
  } catch (error) {
    showError(status, error);
    button.disabled = false;
  }
});
