"""A witness for the audit log: it keeps every signed tree head it sees and proves
that each new one extends the last, so a log that forks or rewrites its history
is caught by someone outside the platform.

Checks on each observation:

- the head's Ed25519 signature, against the key of its ``key_id`` from the
  platform's JWKS (a key, once seen, is pinned: a changed key is an alarm);
- a smaller tree than one already seen: the log was rolled back;
- the same size with another root: the log forked;
- a larger tree: RFC 9162 consistency proof from the largest head seen, which
  fails if any entry it already had was changed or removed.

The state is a JSON file the witness alone writes (keep it off the platform's
machine).
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..domain.audit import merkle
from ..domain.audit.leaves import LeafError, TreeHead


@dataclass(frozen=True)
class Alarm:
    kind: str  # bad_signature | unknown_key | key_changed | rollback | fork | inconsistent
    message: str
    head: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class WitnessState:
    url: str
    keys: dict[str, str] = field(default_factory=dict)  # kid → JWK "x" (pinned)
    heads: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, url: str) -> WitnessState:
        if not path.exists():
            return cls(url=url)
        body = json.loads(path.read_text())
        if body.get("url") != url:
            raise ValueError(f"{path} witnesses {body.get('url')}, not {url}")
        return cls(url=url, keys=body["keys"], heads=body["heads"])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name)
        with os.fdopen(fd, "w") as f:
            json.dump({"url": self.url, "keys": self.keys, "heads": self.heads}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def largest(self) -> TreeHead | None:
        if not self.heads:
            return None
        return TreeHead.from_json(max(self.heads, key=lambda h: h["tree_size"]))


class Witness:
    def __init__(self, url: str, token: str, state_path: Path, *,
                 http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.state_path = state_path
        self.state = WitnessState.load(state_path, self.url)
        self.http = http or httpx.Client(timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def observe(self) -> tuple[TreeHead | None, list[Alarm]]:
        """Fetch the current head, check it, remember it; returns it and any alarms."""
        body = self._get("/v1/audit/sth")
        try:
            head = TreeHead.from_json(body)
        except LeafError as exc:
            return None, [Alarm("malformed", str(exc), body)]
        alarms = self.check(head)
        if not alarms and all(h["tree_size"] != head.tree_size for h in self.state.heads):
            self.state.heads.append(head.as_json())
        if not alarms:
            self.state.save(self.state_path)  # also keeps newly pinned keys
        return head, alarms

    def check(self, head: TreeHead) -> list[Alarm]:
        body = head.as_json()
        problem = self._check_signature(head)
        if problem:
            return [Alarm(problem[0], problem[1], body)]
        for seen in self.state.heads:
            if seen["tree_size"] == head.tree_size and seen["root_hash"] != body["root_hash"]:
                return [Alarm("fork", f"two different roots for tree size {head.tree_size}",
                              body)]
        last = self.state.largest()
        if last is None or last.tree_size == 0 or head.tree_size == last.tree_size:
            return []
        if head.tree_size < last.tree_size:
            return [Alarm("rollback", f"the log shrank from {last.tree_size} to "
                          f"{head.tree_size} entries", body)]
        proof = self._get("/v1/audit/proofs/consistency",
                          first=last.tree_size, second=head.tree_size)
        path = [base64.b64decode(h) for h in proof.get("hashes", [])]
        if not merkle.verify_consistency(last.tree_size, head.tree_size, last.root_hash,
                                         head.root_hash, path):
            return [Alarm("inconsistent", f"the tree of size {head.tree_size} does not extend "
                          f"the one of size {last.tree_size}: history was rewritten", body)]
        return []

    def _check_signature(self, head: TreeHead) -> tuple[str, str] | None:
        x = self._key(head.key_id)
        if x is None:
            return "unknown_key", f"key {head.key_id} is not published in the JWKS"
        pinned = self.state.keys.setdefault(head.key_id, x)
        if pinned != x:
            return "key_changed", f"key {head.key_id} changed since it was first seen"
        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
        try:
            key.verify(head.signature, head.message())
        except InvalidSignature:
            return "bad_signature", f"the head of size {head.tree_size} is not signed by its key"
        return None

    def _key(self, kid: str) -> str | None:
        if kid in self.state.keys:
            return self.state.keys[kid]
        jwks = self._get("/.well-known/jwks.json", auth=False)
        for jwk in jwks.get("keys", []):
            if jwk.get("kid") == kid and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                return str(jwk["x"])
        return None

    def _get(self, path: str, *, auth: bool = True, **params: int) -> dict[str, Any]:
        response = self.http.get(self.url + path, params=params or None,
                                 headers=self.headers if auth else None)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]
