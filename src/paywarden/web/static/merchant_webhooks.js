// The merchant's webhooks: set the endpoint, send a test event, resend an event. Each is a
// call to the JSON API; the delivery log is the server's, shown again by Refresh.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");

document.getElementById("endpoint").addEventListener("submit", async (event) => {
  event.preventDefault();
  const url = document.getElementById("url").value.trim();
  try {
    const saved = await api("/v1/merchants/me/webhook-endpoint", { method: "PUT", body: { url } });
    document.getElementById("current-url").textContent = saved.url;
    document.getElementById("send-test").disabled = false;
    showStatus(status, "Saved: your events go to this endpoint.", "ok");
  } catch (error) {
    showError(status, error);
  }
});

document.getElementById("send-test").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    const sent = await api("/v1/merchants/me/webhook-events/test", { method: "POST" });
    status.dataset.event = sent.id;
    showStatus(status, `Test event ${sent.id} queued: it is delivered in a few seconds; `
      + "Refresh shows it in the log.", "ok");
  } catch (error) {
    showError(status, error);
  } finally {
    event.target.disabled = false;
  }
});

for (const item of document.querySelectorAll("article.event")) {
  item.querySelector("button.resend").addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      await api(`/v1/merchants/me/webhook-events/${item.dataset.id}/resend`, { method: "POST" });
      item.dataset.state = "pending";
      showStatus(status, `Event ${item.dataset.id} queued again.`, "ok");
    } catch (error) {
      showError(status, error);
    } finally {
      event.target.disabled = false;
    }
  });
}
