// The merchant's certification: ask PayWarden to fetch a domain's published token now.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");

for (const item of document.querySelectorAll("li.domain")) {
  item.querySelector("button.verify")?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    const domain = item.dataset.domain;
    try {
      const found = await api(`/v1/merchants/me/domains/${encodeURIComponent(domain)}/verify`,
        { method: "POST" });
      if (found.verified_at) {
        item.dataset.verified = "true";
        showStatus(status, `${domain} is verified.`, "ok");
      } else {
        showStatus(status, `${domain} is not verified yet: ${found.check_error ?? "no token found"}.`,
          "error");
      }
    } catch (error) {
      showError(status, error);
    } finally {
      event.target.disabled = false;
    }
  });
}
