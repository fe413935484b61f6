"""A statement's seal: its canonical data, its audit leaf with the inclusion proof under
a signed tree head, all signed by the platform's ``documents`` key as one JWS.

Every format (CSV, camt.053, PDF) carries the seal, so a statement file alone, with the
platform's published keys (``/.well-known/jwks.json``), proves three things:

- the platform signed exactly this statement (the JWS, ``typ`` ``paywarden-statement+jws``);
- it was recorded in the audit log: its SHA-256 is in a leaf, and the leaf is in the
  tree the platform signed at ``tree_size`` (RFC 9162 inclusion proof, tree head signed
  by the ``tree_heads`` key), so it cannot be quietly withdrawn or re-issued otherwise;
- the file shows what was signed (each format re-renders itself from the signed data
  and compares: see :mod:`.verify`).

The JWS payload, compact JSON with sorted keys::

    {"statement": Statement.data(), "statement_sha256": hex,
     "audit": {"leaf_index": n, "leaf": b64(leaf bytes), "inclusion": [b64, ...],
               "tree_head": TreeHead.as_json()}}

The digest is SHA-256 of the RFC 8785 canonical JSON of ``statement``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from ....domain.audit.leaves import TreeHead, canonical, jsonable
from ....domain.banking.statement import Statement
from ...keys import Keys
from ...keys.purposes import DOCUMENTS

ALGORITHM = "Ed25519"
TYPE = "paywarden-statement+jws"
PURPOSE = DOCUMENTS
AUDIT_ACTION = "banking.statement_issued"
SEAL_BYTES_MAX = 4 * 1024 * 1024  # a JWS longer than this is refused before decoding


def digest(statement: Statement) -> str:
    """SHA-256 (hex) of the statement's canonical JSON: what its audit leaf records."""
    return hashlib.sha256(canonical(jsonable(statement.data()))).hexdigest()


@dataclass(frozen=True)
class AuditProof:
    leaf_index: int
    leaf: bytes  # the leaf's exact bytes (canonical JSON)
    inclusion: tuple[bytes, ...]
    tree_head: TreeHead

    def data(self) -> dict[str, Any]:
        return {"leaf_index": self.leaf_index, "leaf": _b64(self.leaf),
                "inclusion": [_b64(h) for h in self.inclusion],
                "tree_head": self.tree_head.as_json()}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AuditProof:
        try:
            return cls(leaf_index=int(data["leaf_index"]),
                       leaf=base64.b64decode(data["leaf"], validate=True),
                       inclusion=tuple(base64.b64decode(h, validate=True)
                                       for h in data["inclusion"]),
                       tree_head=TreeHead.from_json(data["tree_head"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an audit proof: {type(exc).__name__}") from None


@dataclass(frozen=True)
class Sealed:
    """A statement, its audit proof, and the JWS over both."""

    statement: Statement
    proof: AuditProof
    jws: str

    @property
    def statement_sha256(self) -> str:
        return digest(self.statement)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def seal(keys: Keys, statement: Statement, proof: AuditProof) -> Sealed:
    """Sign ``statement`` and its proof with the active ``documents`` key."""
    payload = {"statement": statement.data(), "statement_sha256": digest(statement),
               "audit": proof.data()}
    signer = keys.signer(PURPOSE)
    header = _json({"alg": ALGORITHM, "kid": signer.key_id, "typ": TYPE})
    signing_input = f"{_b64url(header)}.{_b64url(_json(payload))}"
    token = f"{signing_input}.{_b64url(signer.sign(signing_input.encode('ascii')))}"
    return Sealed(statement, proof, token)


def unverified(token: str) -> Sealed:
    """The seal in ``token`` WITHOUT checking its signature: to re-render a file from
    what it claims (:mod:`.verify` checks the signature first). ValueError if malformed."""
    if len(token) > SEAL_BYTES_MAX:
        raise ValueError("the seal is too long")
    try:
        payload = json.loads(urlsafe_b64decode(token.split(".")[1].encode("ascii")))
        return Sealed(Statement.from_data(payload["statement"]),
                      AuditProof.from_data(payload["audit"]), token)
    except (IndexError, KeyError, TypeError, UnicodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a statement seal: {type(exc).__name__}") from None
