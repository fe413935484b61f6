// One cheque: copy its text (to hand to the payee), and stop it behind a confirmation.
import { api } from "./webauthn.js";
import { chequeBusy, sayCheque } from "./bank_cheques_kit.js";

const status = document.getElementById("status");
const cheque = document.getElementById("cheque").dataset.cheque;
const copy = document.getElementById("copy-cheque");
const text = document.getElementById("cheque-text");
const COPIED_SHOWN_MS = 3000;

copy.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(text.textContent.trim());
    sayCheque(status, "The cheque's text is copied: paste it into your message to the payee.");
    copy.textContent = "Copied";
    window.setTimeout(() => { copy.textContent = "Copy the text"; }, COPIED_SHOWN_MS);
  } catch {
    const range = document.createRange();  // no clipboard: select it for the customer
    range.selectNodeContents(text);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    sayCheque(status, "Copy the selected text with your keyboard or menu.", "info");
  }
});

const stop = document.getElementById("stop-cheque");
if (stop) {
  const confirm = document.getElementById("stop-confirm");
  const yes = document.getElementById("stop-yes");
  stop.addEventListener("click", () => {
    confirm.hidden = false;
    stop.hidden = true;
    yes.focus();
  });
  document.getElementById("stop-no").addEventListener("click", () => {
    confirm.hidden = true;
    stop.hidden = false;
    stop.focus();
  });
  yes.addEventListener("click", () => chequeBusy(yes, status, async () => {
    await api(`/v1/me/cheques/${cheque}/stop`, { method: "POST" });
    const url = new URL(window.location.href);
    url.searchParams.set("done", "stopped");
    window.location.assign(url.toString());
  }));
}
