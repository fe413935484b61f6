// A clearing hub's windows: close a currency's open window now (decision 0057). Closing
// moves no money: the window's row says it is closed and waits to be settled.
import { onUse, say } from "./clearing_kit.js";
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  forbidden: "Only operators close windows.",
  not_found: "This node is not a clearing hub.",
  window_not_found: "That window is not this hub's: reload the page.",
};

function words(error) {
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

const section = document.getElementById("windows");

async function close(row, button) {
  const made = await api(
    `/v1/staff/clearing/windows/${encodeURIComponent(button.dataset.currency)}/close`,
    // the window shown, by its id: a retry answers it, never closes the next one
    { method: "POST", body: { window_id: button.dataset.window } });
  row.dataset.state = made.state;
  const badge = document.createElement("span");
  badge.className = made.state === "settled" ? "badge badge-ok" : "badge badge-warn";
  badge.textContent = made.state === "settled" ? "Settled" : "Closed, to settle";
  row.querySelector(".window-state").replaceChildren(badge);
  button.remove();
  say(section, [made.state === "settled"
    ? `Window ${made.id} was closed and settled before: nothing more was closed.`
    : `Window ${made.id} is closed: its obligations are final and a new window is open `
      + "for new transfers. No money has moved; it moves when the window settles."],
  "ok", "window_closed");
}

if (section) {
  for (const button of section.querySelectorAll("button.close-window")) {
    const row = button.closest("tr");
    onUse(section, button, () => close(row, button), words);
  }
}
