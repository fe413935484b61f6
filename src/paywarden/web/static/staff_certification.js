// The certification queue: approve (a certificate is issued), reject with a reason code,
// suspend, revoke with a reason at once; reinstate is a four-eyes command (decision 0044):
// 202, the certificate stays suspended until another merchant admin approves it in the
// approvals inbox. Every call is the JSON API with the session cookie.
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  domains_not_verified: "Every domain must be verified before the application is approved.",
  application_not_pending: "Someone has decided this application already: refresh the page.",
  certificate_status_unchanged: "The certificate has this status already: refresh the page.",
  certificate_not_suspended: "Only a suspended certificate can be reinstated.",
  merchant_key_missing: "The merchant has no active signing key to certify: ask them to add one.",
  reason_required: "Choose a reason first: the merchant and the registry see it.",
};

function words(error) {
  if (error instanceof ApiError && PLAIN[error.code]) return PLAIN[error.code];
  return describeError(error);
}

function say(card, parts, kind, code) {
  const out = card.querySelector(".outcome");
  out.replaceChildren(...parts);
  out.dataset.kind = kind;
  if (code) out.dataset.code = code;
  else delete out.dataset.code;
}

function reason(card) {
  const value = card.querySelector(".reason-input")?.value || "";
  if (!value) throw new ApiError(422, "reason_required", "");
  return value;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.className = "to-approval";
  return a;
}

const post = (card, action, body) => api(
  `/v1/merchants/${card.dataset.id}/certification/${action}`, { method: "POST", body });

const ACTIONS = {
  approve: async (card) => {
    const cert = await post(card, "approve");
    return [[`Approved: certificate ${cert.serial} issued; the merchant is in the public `
      + "registry and may sell."], "certified"];
  },
  reject: async (card) => {
    const done = await post(card, "reject", { reason: reason(card) });
    return [[`Rejected (${done.reason.replace(/_/g, " ")}). The merchant may apply again.`],
      "rejected"];
  },
  suspend: async (card) => {
    await post(card, "suspend");
    return [["Suspended: the merchant cannot take payments until reinstated."], "suspended"];
  },
  revoke: async (card) => {
    const cert = await post(card, "revoke", { reason: reason(card) });
    return [[`Revoked for good (${cert.reason.replace(/_/g, " ")}): the certificate is in `
      + "the revocation list."], "revoked"];
  },
  reinstate: async (card) => {
    const made = await post(card, "reinstate");
    card.dataset.approval = made.approval_id;
    return [["Asked: the certificate stays suspended until a second merchant admin "
      + "approves it with their passkey: ",
    link(`/staff/approvals#${made.approval_id}`, "see it in the approvals inbox"), "."],
    "approval_pending"];
  },
};

for (const card of document.querySelectorAll("article.application")) {
  for (const [name, act] of Object.entries(ACTIONS)) {
    const button = card.querySelector(`button.${name}`);
    if (!button) continue;
    button.addEventListener("click", async () => {
      const buttons = [...card.querySelectorAll(".decide button")];
      const enabled = buttons.filter((b) => !b.disabled);
      enabled.forEach((b) => { b.disabled = true; });
      try {
        const [parts, state] = await act(card);
        say(card, parts, "ok", state);
        card.dataset.outcome = state;
        card.querySelector(".decide")?.remove();
      } catch (error) {
        say(card, [words(error)], "error", error instanceof ApiError ? error.code
          : (error && error.name) || "error");
        enabled.forEach((b) => { b.disabled = false; });
      }
    });
  }
}
