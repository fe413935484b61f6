"""Checking a statement file with nothing but the platform's published keys.

The checks, in order; each names what it proves, and a failed one fails the file:

    format       the file is a CSV, camt.053 (valid against the XSD) or PDF with a seal
    signature    the seal is a JWS of type paywarden-statement+jws by a published key
    adds_up      opening balance + entries = closing balance, every running balance follows
    content      the file shows exactly the signed statement (each format re-renders)
    digest       the statement's SHA-256 is the one in the seal and in its audit leaf,
                 and the leaf says banking.statement_issued for this statement
    inclusion    the leaf is in the tree of the signed tree head (RFC 9162 proof)
    tree_head    the tree head is signed by a published tree_heads key

``keys`` maps a key id to its Ed25519 public key: from a JWKS document
(:func:`keys_from_jwks`) or the platform's keyring.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.util import urlsafe_b64decode

from ....adapters.store import Database
from ....domain.audit import merkle
from ...keys import store as key_store
from ...keys.purposes import DOCUMENTS, TREE_HEADS
from . import FORMATS, format_of
from .seal import ALGORITHM, AUDIT_ACTION, TYPE, Sealed, unverified

KeyLookup = Callable[[str], Ed25519PublicKey | None]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    format: str | None = None
    checks: list[Check] = field(default_factory=list)
    sealed: Sealed | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks) and len(self.checks) == 7

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def as_json(self) -> dict[str, Any]:
        s = self.sealed.statement if self.sealed else None
        return {"verified": self.ok, "format": self.format, "failed": self.failed,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                           for c in self.checks],
                "statement": None if s is None else {
                    "statement_id": s.statement_id, "account_id": s.account_id,
                    "iban": s.iban, "currency": s.currency, "from": s.period_from.isoformat(),
                    "to": s.period_to.isoformat(),
                    "opening_balance_minor": s.opening_balance_minor,
                    "closing_balance_minor": s.closing_balance_minor,
                    "entries": len(s.entries)},
                "audit": None if self.sealed is None else {
                    "leaf_index": self.sealed.proof.leaf_index,
                    "tree_size": self.sealed.proof.tree_head.tree_size,
                    "root_hash": base64.b64encode(
                        self.sealed.proof.tree_head.root_hash).decode()}}


def keys_from_jwks(jwks: dict[str, Any]) -> KeyLookup:
    """Ed25519 public keys of a JWKS document, by ``kid``."""
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        if (isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519"
                and isinstance(jwk.get("x"), str) and isinstance(jwk.get("kid"), str)):
            try:
                found[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(
                    urlsafe_b64decode(jwk["x"].encode("ascii")))
            except ValueError:
                continue
    return found.get


def keys_from_store(database: Database) -> KeyLookup:
    """The platform's own ``documents`` and ``tree_heads`` public keys, every version ever
    made (active, retired or destroyed: a statement outlives its key's cryptoperiod)."""
    def lookup(kid: str) -> Ed25519PublicKey | None:
        with database.engine.connect() as conn:
            version = key_store.by_kid(conn, kid)
        if (version is None or version.public_key is None
                or version.purpose not in (DOCUMENTS, TREE_HEADS)):
            return None
        return Ed25519PublicKey.from_public_bytes(version.public_key)
    return lookup


def _signature_ok(token: str, keys: KeyLookup) -> tuple[bool, str]:
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(urlsafe_b64decode(header_b64.encode("ascii")))
        signature = urlsafe_b64decode(signature_b64.encode("ascii"))
    except (ValueError, UnicodeError):
        return False, "the seal is not a compact JWS"
    if not isinstance(header, dict) or header.get("typ") != TYPE or header.get("alg") != ALGORITHM:
        return False, f"the seal is not a {TYPE} signed with {ALGORITHM}"
    kid = header.get("kid")
    key = keys(kid) if isinstance(kid, str) else None
    if key is None:
        return False, f"key {kid!r} is not one of the published keys"
    try:
        key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        return False, f"the seal's signature does not verify with key {kid}"
    return True, f"signed by {kid}"


def _leaf_facts(sealed: Sealed) -> tuple[bool, str]:
    try:
        leaf = json.loads(sealed.proof.leaf)
        detail = leaf["detail"]
        claims = (leaf["seq"], leaf["action"], leaf["object"], detail["statement_sha256"],
                  detail["account_id"])
    except (ValueError, KeyError, TypeError):
        return False, "the audit leaf is not a statement's"
    expected = (sealed.proof.leaf_index, AUDIT_ACTION, sealed.statement.statement_id,
                sealed.statement_sha256, sealed.statement.account_id)
    if claims != expected:
        return False, "the audit leaf records another statement, digest or account"
    return True, f"sha256 {sealed.statement_sha256} is audit entry {sealed.proof.leaf_index}"


def _tree_head_ok(sealed: Sealed, keys: KeyLookup) -> tuple[bool, str]:
    head = sealed.proof.tree_head
    key = keys(head.key_id)
    if key is None:
        return False, f"tree head key {head.key_id!r} is not one of the published keys"
    try:
        key.verify(head.signature, head.message())
    except InvalidSignature:
        return False, f"the tree head of size {head.tree_size} is not signed by {head.key_id}"
    return True, f"tree size {head.tree_size} signed by {head.key_id}"


def verify(data: bytes, keys: KeyLookup) -> Report:
    """Every check on a statement file; read :attr:`Report.ok`."""
    kind = format_of(data)
    report = Report(format=kind)
    module = FORMATS[kind]
    try:
        token = module.read_seal(data)
        sealed = unverified(token)
    except ValueError as exc:
        report.add("format", False, str(exc))
        return report
    report.sealed = sealed
    report.add("format", True, f"{report.format} with a seal")
    report.add("signature", *_signature_ok(token, keys))
    problems = sealed.statement.problems()
    report.add("adds_up", not problems, problems[0] if problems else
               "opening + entries = closing; every running balance follows")
    try:
        shown = module.shows(data, sealed)
    except ValueError:
        shown = False
    report.add("content", shown, "the file shows the signed statement" if shown else
               "the file does not show what was signed: it was altered")
    claimed = _claimed_digest(token)
    if claimed is None or not hmac.compare_digest(claimed, sealed.statement_sha256):
        report.add("digest", False, "the seal's digest is not the statement's")
    else:
        report.add("digest", *_leaf_facts(sealed))
    proof, head = sealed.proof, sealed.proof.tree_head
    included = merkle.verify_inclusion(merkle.leaf_hash(proof.leaf), proof.leaf_index,
                                       head.tree_size, proof.inclusion, head.root_hash)
    report.add("inclusion", included, f"leaf {proof.leaf_index} of {head.tree_size}" if included
               else "the inclusion proof does not lead to the tree head's root")
    report.add("tree_head", *_tree_head_ok(sealed, keys))
    return report


def _claimed_digest(token: str) -> str | None:
    try:
        payload = json.loads(urlsafe_b64decode(token.split(".")[1].encode("ascii")))
    except (ValueError, IndexError, UnicodeError):
        return None
    value = payload.get("statement_sha256") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None
