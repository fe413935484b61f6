// Staff and roles (decision 0043, 0048): ask for a role (a four-eyes command: 202, then a
// second security admin approves it in the inbox), take a role away (done at once), and
// deactivate a leaver after a confirmation. Each is the JSON API with the session cookie;
// a refusal is said in plain words, a conflicting grant with the reason from the page's
// own conflict table.
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  role_grant_own: "A change of your own roles is approved by someone else: ask another "
    + "security admin.",
  role_unchanged: "Nothing to change: the person holds this role already, or not at all.",
  staff_not_active: "This person is deactivated: nothing more can be changed.",
  staff_no_approver: "No other security admin exists to approve this yet.",
  approver_passkey_required: "Sign in with your passkey to do this.",
  staff_not_found: "No such member of staff: refresh the page.",
};

// The conflict the refusal names, in the words of the table on this page.
function conflictWords(card, role) {
  const held = (card.dataset.roles || "").split(" ").filter(Boolean);
  for (const row of document.querySelectorAll("#conflicts li.conflict")) {
    const { a, b, why } = row.dataset;
    const other = a === role ? b : b === role ? a : null;
    if (other && held.includes(other)) {
      return `Refused: ${card.dataset.name} holds ${other}, and no one may hold ${role} `
        + `together with ${other}: ${why}. Take ${other} away first if the move is meant.`;
    }
  }
  return null;
}

function words(error, card, role) {
  if (error instanceof ApiError && error.code === "role_conflict") {
    return conflictWords(card, role) || `Refused: ${error.detail}.`;
  }
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

function say(card, text, kind, code) {
  const out = card.querySelector(".outcome");
  out.textContent = text;
  out.dataset.kind = kind;
  if (code) out.dataset.code = code;
  else delete out.dataset.code;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

async function grant(card) {
  const role = card.querySelector(".grant-role").value;
  const made = await api(`/v1/staff/users/${card.dataset.id}/roles`, {
    method: "POST", body: { action: "grant", role } });
  const li = document.createElement("li");
  li.className = "pending-grant";
  li.dataset.role = role;
  li.append(`Waiting for a second security admin: give ${role}. `,
    link(`/staff/approvals#${made.approval_id}`, "Open it in the approvals inbox"));
  card.querySelector("ul.pending").append(li);
  say(card, `Asked. Nothing changes until another security admin approves giving `
    + `${role} to ${card.dataset.name} in the approvals inbox.`, "ok");
}

async function revoke(card, item) {
  const role = item.dataset.role;
  const done = await api(`/v1/staff/users/${card.dataset.id}/roles`, {
    method: "POST", body: { action: "revoke", role } });
  item.remove();
  card.dataset.roles = done.roles.join(" ");
  say(card, `${role} taken away from ${card.dataset.name} now; `
    + `${done.sessions_revoked} session(s) ended.`, "ok");
}

async function deactivate(card) {
  const done = await api(`/v1/staff/users/${card.dataset.id}/deactivate`, { method: "POST" });
  card.querySelector(".confirm").hidden = true;
  card.querySelector(".grant")?.remove();
  card.querySelectorAll("button.revoke").forEach((b) => b.remove());
  const badge = card.querySelector(".card-head .badge");
  badge.className = "badge badge-neutral state";
  badge.textContent = "Deactivated";
  say(card, `${card.dataset.name} is deactivated (${done.deactivated_at.slice(0, 19)
    .replace("T", " ")} UTC): ${done.sessions_revoked} session(s) ended, `
    + `${done.approvals_withdrawn} waiting request(s) withdrawn.`, "ok");
}

// Run `act`, its buttons disabled meanwhile; a refusal goes into the card in words.
function wire(card, button, act, role) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await act();
    } catch (error) {
      say(card, words(error, card, role?.()), "error",
        error instanceof ApiError ? error.code : "error");
    } finally {
      button.disabled = false;
    }
  });
}

for (const card of document.querySelectorAll("article.person")) {
  const grantButton = card.querySelector("button.grant-button");
  if (grantButton) {
    wire(card, grantButton, () => grant(card), () => card.querySelector(".grant-role").value);
  }
  for (const item of card.querySelectorAll("li.privilege")) {
    const button = item.querySelector("button.revoke");
    if (button) wire(card, button, () => revoke(card, item));
  }
  const confirm = card.querySelector(".confirm");
  card.querySelector("button.deactivate")?.addEventListener("click", () => {
    confirm.hidden = false;
    confirm.querySelector("button.confirm-deactivate").focus();
  });
  card.querySelector("button.cancel")?.addEventListener("click", () => {
    confirm.hidden = true;
  });
  const yes = card.querySelector("button.confirm-deactivate");
  if (yes) wire(card, yes, () => deactivate(card));
}
