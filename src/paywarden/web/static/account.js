// The account page: change the anti-phishing phrase, sign out.
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

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await signOut();
    window.location.assign("/signin");
  } catch (error) {
    failed(error);
  }
});
