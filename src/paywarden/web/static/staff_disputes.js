// The disputes queue: decide a dispute (release, refund or split). A decision is a four-eyes
// command (decision 0042): the API answers 202 with the approval, nothing moves, and the
// card says so and links the approvals inbox where another risk member approves it. A
// decision the staff screening holds (409 dispute_decision_held) is said in words.
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  dispute_decision_held: "The risk screening held this decision for review: nothing moved. "
    + "An analyst reviews it in Review cases; once released, submit the same decision again.",
  dispute_decision_declined: "An analyst declined this decision after review: it cannot run.",
  split_does_not_add_up: "The two amounts must add up exactly to what is held.",
  dispute_already_decided: "Someone has decided this dispute already: refresh the page.",
  amount_unreadable: "Write both amounts as money, e.g. 20.00.",
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

function digits(currency) {
  return new Intl.NumberFormat("en", { style: "currency", currency })
    .resolvedOptions().maximumFractionDigits;
}

function money(minor, currency) {
  const format = new Intl.NumberFormat("en", { style: "currency", currency });
  return format.format(minor / 10 ** digits(currency));
}

// "12.50" (or "12,50") as minor units, exactly: no floating point on money.
function minorUnits(text, currency) {
  const places = digits(currency);
  const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text || "");
  if (!match || (match[2] || "").length > places) return null;
  const minor = Number(match[1]) * 10 ** places + Number((match[2] || "").padEnd(places, "0")
    || 0);
  return minor > 0 ? minor : null;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.className = "to-approval";
  return a;
}

function command(card) {
  const { id, held, currency } = card.dataset;
  const resolution = card.querySelector(`input[name="resolution-${id}"]:checked`).value;
  if (resolution !== "split") return { resolution };
  const refund = minorUnits(card.querySelector(".refund-amount").value, currency);
  const release = minorUnits(card.querySelector(".release-amount").value, currency);
  if (refund === null || release === null) {
    throw new ApiError(422, "amount_unreadable", "");
  }
  if (refund + release !== Number(held)) {
    throw new ApiError(422, "split_does_not_add_up", "");
  }
  return { resolution, refund, release };
}

async function decide(card) {
  const body = command(card);
  const made = await api(`/v1/payments/${card.dataset.id}/disputes/decision`,
    { method: "POST", body });
  card.querySelector("form.decide")?.remove();
  if (made && made.approval_id) {
    card.dataset.approval = made.approval_id;
    say(card, [`Submitted (${body.resolution}): nothing has moved. It waits for a second `
      + "member of the risk team to approve it with their passkey: ",
    link(`/staff/approvals#${made.approval_id}`, "see it in the approvals inbox"), "."],
    "ok", "approval_pending");
    return;
  }
  const { currency } = card.dataset;
  say(card, [`Decided: the payment is now ${made.state}; refunded `
    + `${money(made.refunded, currency)}, released ${money(made.released, currency)}.`], "ok");
}

for (const card of document.querySelectorAll("article.dispute")) {
  const form = card.querySelector("form.decide");
  if (!form) continue;
  const split = form.querySelector(".split");
  const showSplit = () => {
    split.hidden = form.querySelector("input[value='split']:checked") === null;
  };
  form.addEventListener("change", showSplit);
  showSplit();  // a choice made (or restored by the browser) before this script ran
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await decide(card);
    } catch (error) {
      const code = error instanceof ApiError ? error.code : (error && error.name) || "error";
      say(card, [words(error)], "error", code);
    } finally {
      button.disabled = false;
    }
  });
}
