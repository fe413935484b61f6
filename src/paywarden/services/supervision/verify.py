"""Checking a report file (CSV, JSON or PDF) with nothing but the platform's published
keys. The checks, in order; a failed one fails the file:

    format       the file is a report CSV, JSON or PDF with a seal
    signature    the seal is a JWS of type paywarden-report+jws by a published key
    content      the file shows exactly the signed report (each format re-renders)
    digest       the report's SHA-256 is the seal's and its own audit leaf's, and that
                 leaf says supervision.report_generated for this report, kind and period
    inclusion    the report's leaf is in the tree of the signed tree head
    citations    every row's cited leaf is in the seal, names the row's object, and is
                 in the same tree (RFC 9162 inclusion proof each)
    tree_head    the tree head is signed by a published tree_heads key
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from joserfc.util import urlsafe_b64decode

from ...domain.audit import merkle
from ...domain.audit.leaves import TreeHead
from ..banking.statements.verify import KeyLookup, keys_from_jwks, keys_from_store
from . import formats, pdf
from .seal import ALGORITHM, AUDIT_ACTION, TYPE, Sealed, payload_of, unverified

CHECKS = ("format", "signature", "content", "digest", "inclusion", "citations", "tree_head")
__all__ = ["CHECKS", "Outcome", "keys_from_jwks", "keys_from_store", "verify"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Outcome:
    format: str
    checks: list[Check] = field(default_factory=list)
    sealed: Sealed | None = None

    @property
    def ok(self) -> bool:
        return [c.name for c in self.checks] == list(CHECKS) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def as_json(self) -> dict[str, Any]:
        r = self.sealed.report if self.sealed else None
        return {"verified": self.ok, "format": self.format, "failed": self.failed,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                           for c in self.checks],
                "report": None if r is None else {
                    "report_id": r.report_id, "kind": r.kind, "from": r.period_from.isoformat(),
                    "to": r.period_to.isoformat(), "rows": len(r.rows),
                    "cited": len(r.citations())},
                "audit": None if self.sealed is None else {
                    "leaf_index": self.sealed.proof.leaf_index,
                    "tree_size": self.sealed.proof.tree_head.tree_size,
                    "root_hash": base64.b64encode(
                        self.sealed.proof.tree_head.root_hash).decode()}}


def _same(render: Callable[[Sealed], bytes]) -> Callable[[bytes, Sealed], bool]:
    return lambda data, sealed: data == render(sealed)


_READERS: dict[str, tuple[Callable[[bytes], str], Callable[[bytes, Sealed], bool]]] = {
    "csv": (formats.csv_seal, _same(formats.render_csv)),
    "json": (formats.json_seal, _same(formats.render_json)),
    "pdf": (pdf.read_seal, pdf.shows)}


def verify(data: bytes, keys: KeyLookup) -> Outcome:
    """Every check on a report file; read :attr:`Outcome.ok`."""
    kind = formats.format_of(data)
    outcome = Outcome(kind)
    read, shows = _READERS[kind]
    try:
        token = read(data)
        sealed = unverified(token)
    except ValueError as exc:
        outcome.add("format", False, str(exc))
        return outcome
    outcome.sealed = sealed
    outcome.add("format", True, f"{kind} with a seal")
    outcome.add("signature", *_signature(token, keys))
    try:
        shown = bool(shows(data, sealed))
    except ValueError:
        shown = False
    outcome.add("content", shown, "the file shows the signed report" if shown else
                "the file does not show what was signed: it was altered")
    outcome.add("digest", *_digest(token, sealed))
    proof, head = sealed.proof, sealed.proof.tree_head
    included = merkle.verify_inclusion(merkle.leaf_hash(proof.leaf), proof.leaf_index,
                                       head.tree_size, proof.inclusion, head.root_hash)
    outcome.add("inclusion", included, f"leaf {proof.leaf_index} of {head.tree_size}"
                if included else "the inclusion proof does not lead to the tree head's root")
    outcome.add("citations", *_citations(sealed))
    outcome.add("tree_head", *_tree_head(head, keys))
    return outcome


def _signature(token: str, keys: KeyLookup) -> tuple[bool, str]:
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


def _digest(token: str, sealed: Sealed) -> tuple[bool, str]:
    claimed = payload_of(token).get("report_sha256")
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, sealed.report_sha256):
        return False, "the seal's digest is not the report's"
    r = sealed.report
    try:
        leaf = json.loads(sealed.proof.leaf)
        detail = leaf["detail"]
        claims = (leaf["seq"], leaf["action"], leaf["object"], detail["report_sha256"],
                  detail["kind"], detail["from"], detail["to"])
    except (ValueError, KeyError, TypeError):
        return False, "the audit leaf is not a report's"
    expected = (sealed.proof.leaf_index, AUDIT_ACTION, r.report_id, sealed.report_sha256,
                r.kind, r.period_from.isoformat(), r.period_to.isoformat())
    if claims != expected:
        return False, "the audit leaf records another report, digest, kind or period"
    return True, f"sha256 {sealed.report_sha256} is audit entry {sealed.proof.leaf_index}"


def _citations(sealed: Sealed) -> tuple[bool, str]:
    head = sealed.proof.tree_head
    by_index = {c.leaf_index: c for c in sealed.cited}
    wanted = sealed.report.citations()
    for obj, index in wanted:
        cited = by_index.get(index)
        if cited is None:
            return False, f"leaf {index} (of {obj}) has no proof in the seal"
        try:
            leaf = json.loads(cited.leaf)
            named = (leaf["seq"], leaf["object"])
        except (ValueError, KeyError, TypeError):
            return False, f"leaf {index} is not an audit entry"
        if named != (index, obj):
            return False, f"leaf {index} does not record {obj}"
        if index >= sealed.proof.leaf_index or not merkle.verify_inclusion(
                merkle.leaf_hash(cited.leaf), index, head.tree_size, cited.inclusion,
                head.root_hash):
            return False, f"leaf {index} (of {obj}) is not in the signed tree"
    return True, f"{len(wanted)} cited entries, each in the tree of size {head.tree_size}"


def _tree_head(head: TreeHead, keys: KeyLookup) -> tuple[bool, str]:
    key = keys(head.key_id)
    if key is None:
        return False, f"tree head key {head.key_id!r} is not one of the published keys"
    try:
        key.verify(head.signature, head.message())
    except InvalidSignature:
        return False, f"the tree head of size {head.tree_size} is not signed by {head.key_id}"
    return True, f"tree size {head.tree_size} signed by {head.key_id}"
