// A signed-in user's passkeys: list them, add one.
import { api, registerPasskey, showError, showStatus } from "./webauthn.js";

const list = document.getElementById("passkeys");
const status = document.getElementById("status");

async function refresh() {
  const answer = await api("/v1/auth/passkeys");
  list.replaceChildren(...answer.data.map((passkey) => {
    const item = document.createElement("li");
    item.className = "passkey";
    item.textContent = passkey.name;
    return item;
  }));
}

document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = document.getElementById("passkey-name").value.trim() || "passkey";
  try {
    showStatus(status, "Follow your browser's prompt to create a passkey…");
    await registerPasskey({ name });
    showStatus(status, "Passkey added.", "ok");
    await refresh();
  } catch (error) {
    showError(status, error);
  }
});

refresh().catch((error) => showError(status, error));
