// The merchant's API keys: make an Ed25519 key pair with WebCrypto in this browser, save the
// private key (PKCS#8 PEM) to the person's computer and upload only the public key; or
// upload a public key made elsewhere; or revoke a key. The private key never leaves the page.
import { api, showError, showStatus } from "./webauthn.js";

const status = document.getElementById("status");

function pem(label, buffer) {
  const text = btoa(String.fromCharCode(...new Uint8Array(buffer)));
  const lines = text.match(/.{1,64}/g).join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

async function upload(publicPem, label) {
  return api("/v1/merchants/me/keys", { method: "POST", body: { public_key: publicPem, label } });
}

document.getElementById("generate").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("make-key");
  button.disabled = true;
  try {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const privatePem = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const publicPem = pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", pair.publicKey));
    const label = document.getElementById("gen-label").value.trim();
    const made = await upload(publicPem, label);
    const link = document.getElementById("download");
    link.href = URL.createObjectURL(new Blob([privatePem], { type: "application/x-pem-file" }));
    link.download = `paywarden-${made.id}.pem`;
    document.getElementById("new-key-id").textContent = made.id;
    document.getElementById("saved").hidden = false;
    link.click();
    showStatus(status, `Key ${made.id} added. Your browser saved its private key; put it `
      + "where your backend reads it, then revoke the key it replaces.", "ok");
  } catch (error) {
    showError(status, error);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("pem").value.trim();
  if (!text.startsWith("-----BEGIN PUBLIC KEY-----")) {
    showStatus(status, "Paste an Ed25519 public key in PEM: it starts with "
      + "-----BEGIN PUBLIC KEY-----. Never paste a private key.", "error");
    return;
  }
  try {
    const made = await upload(text, document.getElementById("up-label").value.trim());
    showStatus(status, `Key ${made.id} added.`, "ok");
  } catch (error) {
    showError(status, error);
  }
});

for (const item of document.querySelectorAll("li.key")) {
  item.querySelector("button.revoke")?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      await api(`/v1/merchants/me/keys/${item.dataset.id}/revoke`, { method: "POST" });
      item.dataset.active = "false";
      item.querySelector(".badge").textContent = "Revoked";
      event.target.remove();
      showStatus(status, `Key ${item.dataset.id} revoked: a request signed with it is refused.`,
        "ok");
    } catch (error) {
      showError(status, error);
      event.target.disabled = false;
    }
  });
}
