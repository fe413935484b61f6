// An account's details: copy the IBAN (without the spaces it is shown with).
import { showStatus } from "./webauthn.js";

const status = document.getElementById("status");
const copy = document.getElementById("copy-iban");

copy.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(copy.dataset.iban);
    showStatus(status, "IBAN copied.", "ok");
  } catch {
    const range = document.createRange();  // no clipboard: select it for the customer
    range.selectNodeContents(document.getElementById("iban"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    showStatus(status, "Copy the selected IBAN with your keyboard or menu.", "info");
  }
});
