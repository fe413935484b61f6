// The merchant's people (owners): invite someone (a one-time link, shown once, for the owner
// to send), or disable someone (their sessions end at once). The JSON API with the session
// cookie decides who may.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");
const form = document.getElementById("invite");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = document.getElementById("email").value.trim();
  if (!email.includes("@")) {
    showStatus(status, "Write their e-mail address.", "error");
    return;
  }
  const button = document.getElementById("send-invite");
  button.disabled = true;
  try {
    const made = await api("/v1/merchants/me/users/invitations", { method: "POST",
      body: { email, role: document.getElementById("role").value } });
    document.getElementById("invite-link").textContent = made.url;
    document.getElementById("invitation").hidden = false;
    showStatus(status, `Invitation made for ${made.role}.`, "ok");
  } catch (error) {
    showError(status, error);
  } finally {
    button.disabled = false;
  }
});

for (const item of document.querySelectorAll("li.person")) {
  item.querySelector("button.disable")?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      await api(`/v1/merchants/me/users/${item.dataset.id}/disable`, { method: "POST" });
      showStatus(status, `${item.dataset.username} is disabled: signed out everywhere.`, "ok");
      event.target.remove();
    } catch (error) {
      showError(status, error);
      event.target.disabled = false;
    }
  });
}
