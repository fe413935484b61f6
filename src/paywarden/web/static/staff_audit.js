// The audit-log browser: the signed tree head (its Ed25519 signature checked against
// /.well-known/jwks.json), entries a page at a time, and for any entry its RFC 9162
// inclusion proof, checked here against the signed head's root (merkle.js). Everything
// shown comes from the JSON API and is written as text, never as HTML.
import { api, showError, showStatus } from "./webauthn.js";
import { base64ToBytes, leafHash, toHex, verifyInclusion, verifyTreeHead } from "./merkle.js";

const PAGE_SIZE = 25; // entries a page shows (the API gives at most 1,000 a call)
const status = document.getElementById("status");
const rows = document.getElementById("entry-rows");
const find = document.getElementById("find");
const $ = (id) => document.getElementById(id);
let head = null;
let end = -1; // the newest index the page shows

// A cell named by its column (data-label: a phone shows each row as a card).
function cell(row, label, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  td.dataset.label = label;
  if (className) td.className = className;
  return td;
}

function decode(leaf) {
  return JSON.parse(new TextDecoder().decode(base64ToBytes(leaf)));
}

async function showHead() {
  head = await api("/v1/audit/sth");
  $("sth-size").textContent = String(head.tree_size);
  $("sth-time").textContent = new Date(head.timestamp).toISOString().replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  $("sth-key").textContent = head.key_id;
  $("sth-root").textContent = toHex(base64ToBytes(head.root_hash));
  const badge = $("sth-check");
  const ok = await verifyTreeHead(head, await api("/.well-known/jwks.json"));
  badge.className = `badge ${ok ? "badge-ok" : ok === null ? "badge-neutral" : "badge-warn"}`;
  badge.textContent = ok ? "signature verified" : ok === null
    ? "this browser cannot check Ed25519: use paywarden audit verify"
    : "signature does NOT verify";
  badge.dataset.verified = String(ok);
  end = head.tree_size - 1;
}

async function showEntries() {
  rows.replaceChildren();
  if (end < 0) {
    $("range").textContent = "(the log is empty)";
    return;
  }
  const start = Math.max(0, end - PAGE_SIZE + 1);
  const page = await api(`/v1/audit/entries?start=${start}&end=${end}`);
  $("range").textContent = `${start}–${end} of ${head.tree_size}, newest first`;
  for (const { index, leaf } of page.data.reverse()) {
    const entry = decode(leaf);
    const row = rows.insertRow();
    row.dataset.index = String(index);
    row.dataset.text = `${entry.action} ${entry.object} ${entry.actor} ${entry.outcome}`
      .toLowerCase();
    cell(row, "#", String(index), "num");
    cell(row, "When (UTC)", entry.time.replace("T", " ").replace(/\.\d+Z$/, ""), "when");
    cell(row, "Action", entry.action, "action");
    cell(row, "Object", entry.object, "object");
    cell(row, "Actor", entry.actor, "actor");
    cell(row, "Outcome", entry.outcome);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary small prove";
    button.textContent = "Check proof";
    button.addEventListener("click", () => prove(index, leaf, entry).catch(
      (error) => showError(status, error)));
    const last = row.insertCell();
    last.className = "actions";
    last.append(button);
  }
  $("older").disabled = start === 0;
  $("newer").disabled = end >= head.tree_size - 1;
  filter();
}

function filter() {
  const wanted = find.value.trim().toLowerCase();
  for (const row of rows.rows) row.hidden = wanted !== "" && !row.dataset.text.includes(wanted);
}

async function prove(index, leaf, entry) {
  const proof = await api(`/v1/audit/proofs/inclusion?index=${index}&tree_size=${head.tree_size}`);
  const hash = await leafHash(base64ToBytes(leaf));
  const path = proof.hashes.map(base64ToBytes);
  const ok = await verifyInclusion(hash, index, head.tree_size, path,
    base64ToBytes(head.root_hash));
  const section = $("proof");
  section.hidden = false;
  section.dataset.verified = String(ok);
  $("proof-index").textContent = `#${index}`;
  const verdict = $("proof-verdict");
  verdict.className = `status ${ok ? "" : "error"}`;
  verdict.dataset.kind = ok ? "ok" : "error";
  verdict.textContent = ok
    ? `Verified in this page: entry #${index} (${entry.action} of ${entry.object}) is in the `
      + `signed log of ${head.tree_size} entries (${path.length} proof hashes, RFC 9162).`
    : `NOT verified: the proof does not lead from entry #${index} to the signed root.`;
  $("proof-leaf").textContent = JSON.stringify(entry, null, 2);
  $("proof-leaf-hash").textContent = toHex(hash);
  $("proof-path").replaceChildren(...path.map((h) => {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = toHex(h);
    li.append(code);
    return li;
  }));
  section.scrollIntoView({ block: "nearest" });
}

async function page(move) {
  try {
    end = Math.min(head.tree_size - 1, Math.max(PAGE_SIZE - 1, end + move));
    await showEntries();
  } catch (error) {
    showError(status, error);
  }
}

$("older").addEventListener("click", () => page(-PAGE_SIZE));
$("newer").addEventListener("click", () => page(PAGE_SIZE));
find.addEventListener("input", filter);

try {
  await showHead();
  await showEntries();
  showStatus(status, "");
} catch (error) {
  showError(status, error);
}
