"""A report's seal: the report, its own audit leaf and inclusion proof, the signed tree
head, and the leaves and proofs of every entry it cites, signed by the platform's
``documents`` key as one compact JWS (the bank statements' model, decision 0025).

The JWS payload, compact JSON with sorted keys::

    {"report": Report.data(), "report_sha256": hex,
     "audit": {"leaf_index", "leaf", "inclusion", "tree_head"},     # the report's own
     "cited": [{"leaf_index": n, "leaf": b64, "inclusion": [b64, ...]}, ...]}

Every cited proof is under the same tree head as the report's own leaf.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from ..banking.statements.seal import AuditProof
from ..keys import Keys
from ..keys.purposes import DOCUMENTS
from .citations import Cited
from .report import Report, digest

ALGORITHM = "Ed25519"
TYPE = "paywarden-report+jws"
AUDIT_ACTION = "supervision.report_generated"
SEAL_BYTES_MAX = 8 * 1024 * 1024  # a JWS longer than this is refused before decoding


@dataclass(frozen=True)
class Sealed:
    report: Report
    proof: AuditProof
    cited: tuple[Cited, ...]
    jws: str

    @property
    def report_sha256(self) -> str:
        return digest(self.report)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def seal(keys: Keys, report: Report, proof: AuditProof, cited: tuple[Cited, ...]) -> Sealed:
    payload = {"report": report.data(), "report_sha256": digest(report), "audit": proof.data(),
               "cited": [{"leaf_index": c.leaf_index, "leaf": _b64(c.leaf),
                          "inclusion": [_b64(h) for h in c.inclusion]} for c in cited]}
    signer = keys.signer(DOCUMENTS)
    header = _json({"alg": ALGORITHM, "kid": signer.key_id, "typ": TYPE})
    signing_input = f"{_b64url(header)}.{_b64url(_json(payload))}"
    token = f"{signing_input}.{_b64url(signer.sign(signing_input.encode('ascii')))}"
    return Sealed(report, proof, cited, token)


def payload_of(token: str) -> dict[str, Any]:
    if len(token) > SEAL_BYTES_MAX:
        raise ValueError("the seal is too long")
    try:
        payload = json.loads(urlsafe_b64decode(token.split(".")[1].encode("ascii")))
    except (IndexError, UnicodeError, ValueError) as exc:
        raise ValueError(f"not a report seal: {type(exc).__name__}") from None
    if isinstance(payload, dict):
        return payload
    raise ValueError("not a report seal")


def unverified(token: str) -> Sealed:
    """The seal in ``token`` WITHOUT checking its signature (verify checks it first)."""
    payload = payload_of(token)
    try:
        cited = tuple(Cited(int(c["leaf_index"]), base64.b64decode(c["leaf"], validate=True),
                            tuple(base64.b64decode(h, validate=True) for h in c["inclusion"]))
                      for c in payload["cited"])
        return Sealed(Report.from_data(payload["report"]),
                      AuditProof.from_data(payload["audit"]), cited, token)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a report seal: {type(exc).__name__}") from None
