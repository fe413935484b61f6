// Alerts (decision 0048): "I take this on" acknowledges an alert through the JSON API; the
// server keeps the first acknowledgement only, and a second is said in plain words.
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  alert_already_acknowledged: "Someone took this on already: refresh the page to see who.",
};

for (const card of document.querySelectorAll("article.alert")) {
  const button = card.querySelector("button.acknowledge");
  if (!button) continue;
  const out = card.querySelector(".outcome");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const done = await api(`/v1/staff/alerts/${card.dataset.id}/acknowledge`,
        { method: "POST" });
      card.querySelector(".acknowledger").textContent = `you, ${done.acknowledged_at
        .slice(0, 19).replace("T", " ")} UTC`;
      button.closest(".actions").remove();
      out.textContent = "Taken on: your name is kept with this alert.";
      out.dataset.kind = "ok";
      card.dataset.acknowledged = "true";
    } catch (error) {
      out.textContent = error instanceof ApiError && PLAIN[error.code] ? PLAIN[error.code]
        : describeError(error);
      out.dataset.kind = "error";
      out.dataset.code = error instanceof ApiError ? error.code : "error";
      button.disabled = false;
    }
  });
}
