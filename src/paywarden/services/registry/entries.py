"""Registry entries, and the four-eyes commands that alone write them (kind
``registry_entry`` of the approval engine, decision 0042):

    check_request(action, body)  staff member A submits: the body checked, nothing written
    apply(action, body)          staff member B ≠ A approved: applied in the approval's
                                 transaction, audited with the approval and both people

The engine keeps the request, its expiry and its once-only approval (the old
``registry_requests`` table is no longer written). Actions:

    create        identifiers (kind, digest), reason, evidence reference, expiry
    change        a new reason, evidence reference or expiry of a local entry
    remove        a local entry stops matching (kept, state "removed", for the record)
    trust_source  another institution's issuer and JWKS: its feeds may be imported (again
                  for a source that rotated its keys: the JWKS is replaced, the sequence kept)

Imported entries are written by the feed (services/registry/feed.py), never here.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.store.schema import registry_entries, registry_identifiers, registry_sources
from ...domain.errors import DomainError
from ...domain.registry import Action, Reason, check_evidence_ref
from .. import audit

LOCAL = "local"
LIVE = "live"
REMOVED = "removed"
ENTRY_PREFIX = "reg_"
IDENTIFIERS_PER_ENTRY_MAX = 16
ISSUER_CHARS_MAX = 200
JWKS_CHARS_MAX = 16_384


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    source: str
    source_entry_id: str | None
    state: str
    evidence_ref: str | None  # for staff with the registry grant only
    requested_by: str
    approved_by: str
    created_at_ns: int
    expires_at_ns: int
    identifiers: tuple[tuple[str, str], ...]  # (kind, digest)

    def live(self, now_ns: int) -> bool:
        return self.state == LIVE and now_ns < self.expires_at_ns


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _reason(value: object) -> str:
    try:
        return str(Reason(str(value)))
    except ValueError:
        raise DomainError("registry_reason_invalid", f"the reason is one of "
                          f"{', '.join(Reason)}") from None


def _expiry(value: object, now_ns: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= now_ns:
        raise DomainError("registry_expiry_invalid", "an entry expires in the future")
    return value


def check_body(action: Action, body: dict[str, Any], *, now_ns: int) -> dict[str, Any]:
    """The body of a request, checked and reduced to what the action uses."""
    if action is Action.CREATE:
        found = body.get("identifiers")
        if not isinstance(found, list) or not 0 < len(found) <= IDENTIFIERS_PER_ENTRY_MAX:
            raise DomainError("registry_identifier_invalid", "an entry has 1 to "
                              f"{IDENTIFIERS_PER_ENTRY_MAX} identifiers")
        return {"identifiers": sorted({(str(k), str(d)) for k, d in found}),
                "reason": _reason(body.get("reason")),
                "evidence_ref": check_evidence_ref(body.get("evidence_ref")),
                "expires_at": _expiry(body.get("expires_at"), now_ns)}
    if action is Action.CHANGE:
        changed: dict[str, Any] = {}
        if body.get("reason") is not None:
            changed["reason"] = _reason(body["reason"])
        if body.get("evidence_ref") is not None:
            changed["evidence_ref"] = check_evidence_ref(body["evidence_ref"])
        if body.get("expires_at") is not None:
            changed["expires_at"] = _expiry(body["expires_at"], now_ns)
        if not changed:
            raise DomainError("registry_change_empty", "a change names a reason, an evidence "
                              "reference or an expiry")
        return changed
    if action is Action.TRUST_SOURCE:
        issuer, jwks = body.get("issuer"), body.get("jwks")
        if not isinstance(issuer, str) or not 0 < len(issuer) <= ISSUER_CHARS_MAX \
                or not issuer.isprintable() or issuer == LOCAL:
            raise DomainError("registry_source_invalid", "the issuer is printable text of at "
                              f"most {ISSUER_CHARS_MAX} characters")
        text = json.dumps(jwks, sort_keys=True)
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) \
                or len(text) > JWKS_CHARS_MAX:
            raise DomainError("registry_source_invalid", "the JWKS is {\"keys\": [...]}")
        return {"issuer": issuer, "jwks": jwks}
    return {}


def check_request(conn: Connection, action: Action, body: dict[str, Any], *,
                  entry_id: str | None, now_ns: int) -> dict[str, Any]:
    """The body of a change, checked and reduced to what the action uses: what the
    approval engine stores as the command (kind ``registry_entry``); nothing changes."""
    checked = check_body(action, body, now_ns=now_ns)
    if action in (Action.CHANGE, Action.REMOVE):
        _local(get(conn, str(entry_id)))
    elif entry_id is not None:
        raise DomainError("registry_request_invalid", f"a {action} request names no entry")
    return checked


def _local(entry: Entry) -> None:
    if entry.source != LOCAL or entry.state != LIVE:
        raise DomainError("registry_entry_not_local", "only a live entry of this instance is "
                          "changed or removed here; an imported one changes at its source")


def apply(conn: Connection, action: Action, body: dict[str, Any], *, entry_id: str | None,
          requested_by: str, approver: str, approval_id: str, actor: str,
          now_ns: int) -> str:
    """Apply an approved change in the approval's transaction; the entry (or source) it
    wrote. Audited as ``registry.<action>`` with the approval and both people."""
    written = _apply(conn, action, body, entry_id=entry_id, requested_by=requested_by,
                     approver=approver[:128], now_ns=now_ns)
    audit.record(conn, at_ns=now_ns, actor=actor, action=f"registry.{action}",
                 object_id=written, detail={"approval": approval_id,
                                            "requested_by": requested_by})
    return written


def _apply(conn: Connection, action: Action, body: dict[str, Any], *, entry_id: str | None,
           requested_by: str, approver: str, now_ns: int) -> str:
    if action is Action.CREATE:
        made = new_id(ENTRY_PREFIX)
        add(conn, made, reason=body["reason"], evidence_ref=body["evidence_ref"],
            source=LOCAL, source_entry_id=None, requested_by=requested_by,
            approved_by=approver, created_at=now_ns, expires_at=body["expires_at"],
            identifiers=[(k, d) for k, d in body["identifiers"]])
        return made
    if action is Action.TRUST_SOURCE:  # new, or its keys after a rotation at the source
        source = {"jwks": json.dumps(body["jwks"]), "trusted_by": requested_by,
                  "approved_by": approver, "trusted_at": now_ns}
        if conn.execute(update(registry_sources).where(
                registry_sources.c.issuer == body["issuer"]).values(**source)).rowcount == 0:
            conn.execute(insert(registry_sources).values(issuer=body["issuer"],
                                                         last_sequence=0, **source))
        return str(body["issuer"])[:64]
    changed = str(entry_id)
    values: dict[str, Any] = {"changed_at": now_ns}
    if action is Action.REMOVE:
        values["state"] = REMOVED
    else:
        values |= body
    if conn.execute(update(registry_entries).where(
            registry_entries.c.id == changed, registry_entries.c.source == LOCAL,
            registry_entries.c.state == LIVE).values(**values)).rowcount != 1:
        raise DomainError("registry_entry_not_local", f"entry {changed} is no longer live")
    return changed


def add(conn: Connection, entry_id: str, *, reason: str, evidence_ref: str | None, source: str,
        source_entry_id: str | None, requested_by: str, approved_by: str, created_at: int,
        expires_at: int, identifiers: list[tuple[str, str]]) -> None:
    conn.execute(insert(registry_entries).values(
        id=entry_id, reason=reason, evidence_ref=evidence_ref, source=source,
        source_entry_id=source_entry_id, state=LIVE, requested_by=requested_by,
        approved_by=approved_by, created_at=created_at, expires_at=expires_at,
        changed_at=created_at))
    conn.execute(insert(registry_identifiers), [
        {"entry_id": entry_id, "kind": k, "digest": d} for k, d in sorted(set(identifiers))])


def _entries(conn: Connection, rows: list[Any]) -> list[Entry]:
    ids = [r["id"] for r in rows]
    found: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        for entry_id, kind, digest in conn.execute(
                select(registry_identifiers.c.entry_id, registry_identifiers.c.kind,
                       registry_identifiers.c.digest)
                .where(registry_identifiers.c.entry_id.in_(ids))):
            found[entry_id].append((kind, digest))
    return [Entry(r["id"], r["reason"], r["source"], r["source_entry_id"], r["state"],
                  r["evidence_ref"], r["requested_by"], r["approved_by"], r["created_at"],
                  r["expires_at"], tuple(sorted(found[r["id"]]))) for r in rows]


def get(conn: Connection, entry_id: str) -> Entry:
    row = conn.execute(select(registry_entries).where(registry_entries.c.id == entry_id)
                       ).mappings().first()
    if row is None:
        raise DomainError("not_found", "no such registry entry")
    return _entries(conn, [row])[0]


def of_source(conn: Connection, source: str, *, now_ns: int, limit: int) -> list[Entry]:
    """Live, unexpired entries of one source, oldest first."""
    rows = conn.execute(select(registry_entries).where(
        registry_entries.c.source == source, registry_entries.c.state == LIVE,
        registry_entries.c.expires_at > now_ns,
    ).order_by(registry_entries.c.created_at, registry_entries.c.id).limit(limit)).mappings()
    return _entries(conn, list(rows))


def matching(conn: Connection, digests: list[str], *, now_ns: int) -> list[tuple[str, Entry]]:
    """(digest, entry) for each live, unexpired entry holding one of ``digests``."""
    if not digests:
        return []
    rows = conn.execute(select(registry_identifiers.c.digest, registry_entries).join(
        registry_entries, registry_entries.c.id == registry_identifiers.c.entry_id,
    ).where(registry_identifiers.c.digest.in_(digests), registry_entries.c.state == LIVE,
            registry_entries.c.expires_at > now_ns)).mappings().all()
    entries = {e.id: e for e in _entries(conn, [r for r in rows])}
    return [(r["digest"], entries[r["id"]]) for r in rows]


HIT_DIGESTS_MAX = 8  # digests per lookup statement; more are looked up in chunks
HITS = select(registry_identifiers.c.digest, registry_entries.c.id, registry_entries.c.reason,
              registry_entries.c.source, registry_entries.c.expires_at).join(
    registry_entries, registry_entries.c.id == registry_identifiers.c.entry_id).where(
    registry_identifiers.c.digest.in_([bindparam(f"d{k}") for k in range(HIT_DIGESTS_MAX)]),
    registry_entries.c.state == LIVE, registry_entries.c.expires_at > bindparam("now"))


def hit_params(digests: list[str], *, now_ns: int) -> list[dict[str, Any]]:
    """:data:`HITS`' parameters for ``digests``, a chunk of at most HIT_DIGESTS_MAX each
    (the unused ones NULL: they match nothing)."""
    chunks = [digests[k:k + HIT_DIGESTS_MAX] for k in range(0, len(digests), HIT_DIGESTS_MAX)]
    return [{"now": now_ns, **{f"d{k}": (chunk[k] if k < len(chunk) else None)
                               for k in range(HIT_DIGESTS_MAX)}} for chunk in chunks]


def hit_rows(conn: Connection, digests: list[str], *, now_ns: int
             ) -> list[tuple[str, str, str, str, int]]:
    """(digest, entry id, reason, source, expires_at) of live, unexpired entries holding
    one of ``digests``: one indexed query per chunk of digests."""
    return [(r[0], r[1], r[2], r[3], int(r[4])) for params in hit_params(digests, now_ns=now_ns)
            for r in conn.execute(HITS, params)]