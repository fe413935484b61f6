"""A software WebAuthn authenticator for tests and benchmarks, built from library primitives.

It holds one EC P-256 key (``cryptography``), answers registration options with
a "none" attestation (``cbor2``) and authentication options with a signed
assertion, as a browser's ``PublicKeyCredential.toJSON()`` would. Every field a
real authenticator or browser could get wrong — or a phishing site could make
it sign — can be overridden, so tests can attack the server with it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40
COSE_EC2, COSE_ES256, COSE_P256 = 2, -7, 1
AAGUID = bytes.fromhex("00112233445566778899aabbccddeeff")


class SoftAuthenticator:
    def __init__(self, *, rp_id: str, origin: str, counter_step: int = 1) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.counter_step = counter_step  # 0: an authenticator that keeps no counter
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: COSE_EC2, 3: COSE_ES256, -1: COSE_P256,
                            -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, rp_id: str | None, flags: int, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}, separators=(",", ":")).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None,
               rp_id: str | None = None, user_verified: bool = True) -> dict[str, Any]:
        """Answer ``navigator.credentials.create()`` options."""
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        client_data = self.client_data("webauthn.create", options["challenge"],
                                       origin or self.origin)
        attested = (AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
                    + self.cose_public_key())
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if user_verified else 0)
        auth_data = self._auth_data(rp_id or options["rp"]["id"], flags, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": self.id, "rawId": self.id, "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": bytes_to_base64url(client_data),
                             "attestationObject": bytes_to_base64url(attestation),
                             "transports": ["internal", "hybrid"]}}

    def get(self, options: dict[str, Any], *, origin: str | None = None,
            rp_id: str | None = None, user_verified: bool = True,
            sign_count: int | None = None, kind: str = "webauthn.get",
            challenge: str | None = None) -> dict[str, Any]:
        """Answer ``navigator.credentials.get()`` options with a signed assertion."""
        self.sign_count = sign_count if sign_count is not None \
            else self.sign_count + self.counter_step
        client_data = self.client_data(kind, challenge or options["challenge"],
                                       origin or self.origin)
        flags = FLAG_UP | (FLAG_UV if user_verified else 0)
        auth_data = self._auth_data(rp_id or options.get("rpId"), flags)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        response: dict[str, Any] = {"clientDataJSON": bytes_to_base64url(client_data),
                                    "authenticatorData": bytes_to_base64url(auth_data),
                                    "signature": bytes_to_base64url(signature)}
        if self.user_handle is not None:
            response["userHandle"] = bytes_to_base64url(self.user_handle)
        return {"id": self.id, "rawId": self.id, "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": response}
