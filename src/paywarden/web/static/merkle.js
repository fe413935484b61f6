// RFC 9162 (Certificate Transparency 2.0) checks in the browser, with WebCrypto only:
// a leaf's hash, an inclusion proof against a tree head's root, and the tree head's
// Ed25519 signature against the platform's published keys. The same checks as
// domain/audit/merkle.py and `paywarden audit verify`, so a reader needs to trust
// neither the page's server-side rendering nor the server's word that an entry is logged.

export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// RFC 9162 §2.1.1: leaves and interior nodes are hashed with different prefixes.
export const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

function equal(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// RFC 9162 §2.1.3.2: does `path` prove the leaf hash at `index` in the tree of `treeSize`
// leaves whose root is `root`? Sizes stay below 2**53, so plain numbers with division
// (not 32-bit bit operators) hold them exactly.
export async function verifyInclusion(hash, index, treeSize, path, root) {
  if (!(index >= 0 && index < treeSize)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = hash;
  const odd = (n) => n % 2 === 1;
  const half = (n) => Math.floor(n / 2);
  for (const p of path) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) {
        while (fn !== 0 && !odd(fn)) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
}

// The bytes a tree head's signature covers: a context line, then the RFC 8785 JSON of its
// fields (sorted keys; every value here is ASCII text or a safe integer, which
// JSON.stringify writes exactly as RFC 8785 does).
export function treeHeadMessage(head) {
  const body = JSON.stringify({ key_id: head.key_id, root_hash: head.root_hash,
    timestamp: head.timestamp, tree_size: head.tree_size });
  return new TextEncoder().encode(`PayWarden tree head v1\n${body}`);
}

// true / false, or null when this browser's WebCrypto has no Ed25519.
export async function verifyTreeHead(head, jwks) {
  const jwk = (jwks.keys || []).find((k) => k.kid === head.key_id);
  if (!jwk) return false;
  try {
    const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
      { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key,
      base64ToBytes(head.signature), treeHeadMessage(head));
  } catch (error) {
    if (error && error.name === "NotSupportedError") return null;
    throw error;
  }
}
