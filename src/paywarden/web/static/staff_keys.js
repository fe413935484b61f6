// Keys (decision 0044, 0048): ask for a retired key version to be destroyed. It is the
// four-eyes command key_destruction, submitted through POST /v1/approvals (202); nothing
// is destroyed until another security admin approves it in the inbox.
import { ApiError, api, describeError } from "./webauthn.js";

const PLAIN = {
  key_not_usable: "Only a retired key version can be destroyed.",
  submitter_role_refused: "Your role does not ask for key destruction.",
};

for (const row of document.querySelectorAll("tr.key")) {
  const ask = row.querySelector("button.destroy");
  if (!ask) continue;
  const confirm = row.querySelector(".confirm");
  const out = row.querySelector(".outcome");
  ask.addEventListener("click", () => {
    confirm.hidden = false;
    ask.hidden = true;
  });
  row.querySelector("button.cancel").addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
  });
  const yes = row.querySelector("button.confirm-destroy");
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      const made = await api("/v1/approvals", { method: "POST",
        body: { kind: "key_destruction", params: { kid: row.dataset.kid } } });
      confirm.remove();
      ask.remove();
      const a = document.createElement("a");
      a.href = `/staff/approvals#${made.approval_id}`;
      a.textContent = "open it in the inbox";
      out.replaceChildren("Asked. Waiting for a second security admin: ", a);
      out.dataset.kind = "ok";
    } catch (error) {
      out.textContent = error instanceof ApiError && PLAIN[error.code] ? PLAIN[error.code]
        : describeError(error);
      out.dataset.kind = "error";
      out.dataset.code = error instanceof ApiError ? error.code : "error";
      yes.disabled = false;
    }
  });
}
