// The merchant's settings (owners): the refund threshold from which a second owner approves.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");

document.getElementById("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("least")?.value.trim() ?? "";
  if (text && !/^\d{1,15}$/.test(text)) {
    showStatus(status, "Write a whole number of minor units, e.g. 2000, or leave it empty.",
      "error");
    return;
  }
  try {
    const saved = await api("/v1/merchants/me/settings", { method: "PUT",
      body: { refund_approval_min: text ? Number(text) : null } });
    const least = saved.refund_approval_min;
    document.getElementById("current").textContent = least === null ? "no refund waits"
      : `${least} minor units (cents) and more`;
    showStatus(status, "Saved.", "ok");
  } catch (error) {
    showError(status, error);
  }
});
