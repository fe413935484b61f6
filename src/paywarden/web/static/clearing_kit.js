// What the back office's clearing pages share: a card's outcome line, a link into the
// approvals inbox, and a button's work with its errors said in words.
import { InputError } from "./bankkit.js";
import { ApiError } from "./webauthn.js";

export function say(card, parts, kind, code) {
  const out = card.querySelector(".outcome");
  out.replaceChildren(...parts);
  out.dataset.kind = kind;
  if (code) out.dataset.code = code;
  else delete out.dataset.code;
}

export function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.className = "to-approval";
  return a;
}

export function pending(card, made) {
  say(card, [`Submitted: ${made.approval.summary}. Nothing has moved yet. It waits for a `
    + "member of the risk team to approve it with their passkey: ",
  link(`/staff/approvals#${made.approval_id}`, "see it in the approvals inbox"), "."],
  "ok", "approval_pending");
}

// Run ``work`` when ``button`` is used (its form submitted, or it is clicked), the
// button disabled meanwhile; a failure is said on the card in ``words``.
export function onUse(card, button, work, words) {
  const form = button.form;
  const target = form || button;
  target.addEventListener(form ? "submit" : "click", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      const code = error instanceof ApiError ? error.code
        : error instanceof InputError ? "amount_unreadable" : (error && error.name) || "error";
      say(card, [words(error)], "error", code);
    } finally {
      button.disabled = false;
    }
  });
}
