// PayWarden's browser side of WebAuthn, as an ES module (no dependencies).
//
// Pages import what they need:
//   import { registerPasskey, signInWithPasskey, confirmOperation, signOut,
//            api, describeError, showStatus } from "/static/webauthn.js";
//
// Every call goes to the same-origin JSON API with the session cookie (the API
// checks the Origin of cookie-authenticated changes) or, during sign-up, with
// the enrolment token as a bearer token held only in memory.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

// --- base64url <-> ArrayBuffer ---------------------------------------------------

export function b64urlToBuffer(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export function bufferToB64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// --- options (JSON from the API) -> the browser's form, and back ---------------------

function descriptors(list) {
  return (list || []).map((c) => ({ ...c, id: b64urlToBuffer(c.id) }));
}

export function creationOptions(json) {
  return {
    ...json,
    challenge: b64urlToBuffer(json.challenge),
    user: { ...json.user, id: b64urlToBuffer(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

export function requestOptions(json) {
  return {
    ...json,
    challenge: b64urlToBuffer(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  };
}

// PublicKeyCredential -> the JSON the API's .../verify endpoints take.
export function credentialToJSON(credential) {
  const r = credential.response;
  const out = {
    id: credential.id,
    rawId: bufferToB64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  if (r.attestationObject !== undefined) {
    out.response = {
      clientDataJSON: bufferToB64url(r.clientDataJSON),
      attestationObject: bufferToB64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [],
    };
  } else {
    out.response = {
      clientDataJSON: bufferToB64url(r.clientDataJSON),
      authenticatorData: bufferToB64url(r.authenticatorData),
      signature: bufferToB64url(r.signature),
      userHandle: r.userHandle ? bufferToB64url(r.userHandle) : undefined,
    };
  }
  return out;
}

// --- the API ---------------------------------------------------------------------------

// fetch() a JSON endpoint; resolves to the parsed body (null for 204), or throws ApiError.
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
    redirect: "error",
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.code) || `http_${response.status}`,
      (data && data.detail) || response.statusText || "the request failed");
  }
  return data;
}

// Register a new passkey for the caller (cookie session, or `token` while enrolling).
export async function registerPasskey({ token, name = "passkey" } = {}) {
  const started = await api("/v1/auth/passkeys/register/options", { method: "POST", token });
  const credential = await navigator.credentials.create({
    publicKey: creationOptions(started.options),
  });
  return api("/v1/auth/passkeys/register/verify", {
    method: "POST",
    token,
    body: { ceremony_id: started.ceremony_id, credential: credentialToJSON(credential), name },
  });
}

// Sign in with a passkey; the API sets the session cookie. `username` is optional
// (without it a discoverable passkey is asked for).
export async function signInWithPasskey({ username } = {}) {
  const started = await api("/v1/auth/passkeys/signin/options", {
    method: "POST",
    body: username ? { username } : {},
  });
  const credential = await navigator.credentials.get({
    publicKey: requestOptions(started.options),
  });
  return api("/v1/auth/passkeys/signin/verify", {
    method: "POST",
    body: { ceremony_id: started.ceremony_id, credential: credentialToJSON(credential) },
  });
}

// Step-up: approve one exact operation with a passkey assertion.
//   1. POST `body` to `optionsUrl`; the answer holds `ceremony_id` and `options`
//      (and, from /v1/auth/step-up/options, the `operation` being approved);
//   2. `onOptions(answer)`, if given, is awaited first (show what is approved; throw to stop);
//   3. navigator.credentials.get(), then POST {ceremony_id, credential, ...verifyBody}
//      to `verifyUrl`. Resolves to the verify answer (e.g. {evidence_id, operation}).
// The defaults are the platform's own step-up endpoints.
export async function confirmOperation(optionsUrl = "/v1/auth/step-up/options",
  verifyUrl = "/v1/auth/step-up/verify", body = {}, { token, verifyBody = {}, onOptions } = {}) {
  const started = await api(optionsUrl, { method: "POST", token, body });
  if (onOptions) await onOptions(started);
  const credential = await navigator.credentials.get({
    publicKey: requestOptions(started.options),
  });
  return api(verifyUrl, {
    method: "POST",
    token,
    body: { ...verifyBody, ceremony_id: started.ceremony_id,
      credential: credentialToJSON(credential) },
  });
}

export async function signOut() {
  return api("/v1/auth/sign-out", { method: "POST" });
}

// --- page helpers ------------------------------------------------------------------------

// A message for a person, from an ApiError or a WebAuthn DOMException.
export function describeError(error) {
  if (error instanceof ApiError) return error.detail;
  if (error && error.name === "NotAllowedError") {
    return "The passkey request was cancelled, timed out or refused.";
  }
  if (error && error.name === "SecurityError") {
    return "This page may not use PayWarden passkeys: check the address in your browser.";
  }
  if (error && error.name === "InvalidStateError") {
    return "This passkey is already registered.";
  }
  return "Something went wrong; please try again.";
}

// Put `text` in the status element (always as text, never as HTML).
export function showStatus(element, text, kind = "info") {
  element.textContent = text;
  element.dataset.kind = kind;
  delete element.dataset.code;
}

// Show a failure: its description, and its code (the API's `code`, or the
// DOMException's name such as NotAllowedError) in data-code for tests and styles.
export function showError(element, error) {
  showStatus(element, describeError(error), "error");
  element.dataset.code = error instanceof ApiError ? error.code : (error && error.name) || "error";
}
