"""The signed feed: our entries out to other institutions, theirs in.

A feed is a compact JWS (EdDSA, the keyring's ``registry`` key, published in the JWKS)::

    header   {"alg": "Ed25519", "kid": …, "typ": "paywarden-registry-feed+jwt"}
    payload  {"iss": issuer, "seq": n, "iat": s, "key_id": hashing key's id,
              "entries": [{"id", "reason", "created_at", "expires_at",
                           "identifiers": [[kind, digest], …]}, …]}

It is a snapshot of the issuer's own live entries (never the ones it imported: an
entry is attributed to the institution that wrote it, and no one relays another's),
with digests only: no plaintext identifier and no evidence reference leaves. Import
checks, in this order: the issuer is a trusted source (``trust_source``, two staff),
the signature verifies under that source's JWKS, the type, the hashing key is ours
(else nothing could match), and the sequence is the next one: an older or equal one
is a replay, a later one a gap, refused unless the importer says so (a snapshot makes
a stated gap safe: nothing of the skipped feeds is lost but their history).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from sqlalchemy import Connection, func, insert, select, update

from ...adapters.store.schema import registry_entries, registry_exports, registry_sources
from ...domain.errors import DomainError
from ...domain.registry import Kind, Reason
from ...domain.timestamps import NS
from .. import audit
from ..keys.purposes import REGISTRY
from . import entries

if TYPE_CHECKING:
    from ..keys import Keys

ALGORITHM = "Ed25519"
JWS_TYPE = "paywarden-registry-feed+jwt"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Imported:
    issuer: str
    sequence: int
    added: int
    updated: int
    removed: int


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def export(conn: Connection, keys: Keys, *, issuer: str, key_id: str, actor: str,
           now_ns: int, entries_max: int) -> tuple[int, str]:
    """The next feed: (its sequence, the compact JWS)."""
    found = entries.of_source(conn, entries.LOCAL, now_ns=now_ns, limit=entries_max + 1)
    if len(found) > entries_max:
        raise DomainError("registry_feed_too_large", f"more than {entries_max} live entries")
    sequence = int(conn.execute(select(func.coalesce(func.max(registry_exports.c.sequence), 0))
                                ).scalar_one()) + 1
    conn.execute(insert(registry_exports).values(sequence=sequence, issued_at=now_ns,
                                                 issued_by=actor[:128],
                                                 entries_count=len(found)))
    body = {"iss": issuer, "seq": sequence, "iat": now_ns // NS, "key_id": key_id,
            "entries": [{"id": e.id, "reason": e.reason, "created_at": e.created_at_ns,
                         "expires_at": e.expires_at_ns,
                         "identifiers": [list(i) for i in e.identifiers]} for e in found]}
    signer = keys.signer(REGISTRY)
    header = _json({"alg": ALGORITHM, "kid": signer.key_id, "typ": JWS_TYPE})
    signing_input = f"{_b64(header)}.{_b64(_json(body))}"
    text = f"{signing_input}.{_b64(signer.sign(signing_input.encode('ascii')))}"
    audit.record(conn, at_ns=now_ns, actor=actor, action="registry.feed.export",
                 object_id=f"seq:{sequence}", detail={"sequence": sequence,
                                                      "entries": len(found)})
    return sequence, text


def _claimed_issuer(text: str, text_chars_max: int) -> str:
    parts = text.split(".") if isinstance(text, str) and len(text) <= text_chars_max else []
    if len(parts) != 3:
        raise DomainError("registry_feed_invalid", "a feed is a compact JWS")
    try:
        claims = json.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, UnicodeError):
        raise DomainError("registry_feed_invalid", "the feed's payload is unreadable") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or len(issuer) > entries.ISSUER_CHARS_MAX:
        raise DomainError("registry_feed_invalid", "the feed names no issuer")
    return issuer


def _verified(text: str, jwks: dict[str, Any]) -> dict[str, Any]:
    try:
        key_set = KeySet.import_key_set(cast(Any, jwks))
        found = jws.deserialize_compact(text, key_set, algorithms=[ALGORITHM])
        claims = json.loads(found.payload)
    except (JoseError, ValueError, TypeError, KeyError):
        raise DomainError("registry_feed_signature_invalid", "the feed's signature does not "
                          "verify under its issuer's keys") from None
    if found.protected.get("typ") != JWS_TYPE or not isinstance(claims, dict):
        raise DomainError("registry_feed_invalid", "the JWS is not a registry feed")
    return claims


def _entry(item: object) -> dict[str, Any]:
    bad = DomainError("registry_feed_invalid", "a feed entry is malformed")
    if not isinstance(item, dict):
        raise bad
    ids, found = item.get("identifiers"), item.get("id")
    expires, created = item.get("expires_at"), item.get("created_at")
    if not isinstance(found, str) or not _ENTRY_ID.match(found) \
            or item.get("reason") not in set(Reason) \
            or not isinstance(expires, int) or not isinstance(created, int) \
            or not isinstance(ids, list) or not 0 < len(ids) <= entries.IDENTIFIERS_PER_ENTRY_MAX:
        raise bad
    pairs = []
    for pair in ids:
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] not in set(Kind) \
                or not isinstance(pair[1], str) or not _DIGEST.match(pair[1]):
            raise bad
        pairs.append((str(pair[0]), pair[1]))
    return {"id": found, "reason": item["reason"], "created_at": created,
            "expires_at": expires, "identifiers": pairs}


def import_(conn: Connection, text: str, *, key_id: str, actor: str, now_ns: int,
            allow_gap: bool, entries_max: int, text_chars_max: int) -> Imported:
    """Check a feed and make the source's imported entries what it says."""
    issuer = _claimed_issuer(text, text_chars_max)
    source = conn.execute(select(registry_sources).where(registry_sources.c.issuer == issuer)
                          ).mappings().first()
    if source is None:
        raise DomainError("registry_feed_unknown_issuer", "the feed's issuer is not a trusted "
                          "source of this registry")
    claims = _verified(text, json.loads(source["jwks"]))
    if claims.get("iss") != issuer:
        raise DomainError("registry_feed_invalid", "the feed's issuer changed")
    if claims.get("key_id") != key_id:
        raise DomainError("registry_feed_key_mismatch", "the feed is hashed under another "
                          "key than ours: none of its entries could match")
    sequence, last = claims.get("seq"), int(source["last_sequence"])
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence <= last:
        raise DomainError("registry_feed_replayed", f"the feed's sequence is not after {last}")
    if sequence != last + 1 and not allow_gap:
        raise DomainError("registry_feed_gap", f"the feed is sequence {sequence}, the next is "
                          f"{last + 1}; import it stating the gap")
    items = claims.get("entries")
    if not isinstance(items, list) or len(items) > entries_max:
        raise DomainError("registry_feed_invalid", f"a feed holds at most {entries_max} "
                          "entries")
    result = _replace(conn, issuer, [_entry(i) for i in items], sequence, now_ns)
    conn.execute(update(registry_sources).where(
        registry_sources.c.issuer == issuer, registry_sources.c.last_sequence == last,
    ).values(last_sequence=sequence, imported_at=now_ns))
    audit.record(conn, at_ns=now_ns, actor=actor, action="registry.feed.import",
                 object_id=issuer[:64], detail={"sequence": sequence, "added": result.added,
                                                "updated": result.updated,
                                                "removed": result.removed,
                                                "gap": sequence != last + 1})
    return result


def _replace(conn: Connection, issuer: str, items: list[dict[str, Any]], sequence: int,
             now_ns: int) -> Imported:
    held = {r.source_entry_id: r.id for r in conn.execute(
        select(registry_entries.c.id, registry_entries.c.source_entry_id).where(
            registry_entries.c.source == issuer, registry_entries.c.state == entries.LIVE))}
    by = f"feed:{issuer}"[:128]
    added = updated = 0
    for item in items:
        local = held.pop(item["id"], None)
        if local is None:
            entries.add(conn, entries.new_id(entries.ENTRY_PREFIX), reason=item["reason"],
                        evidence_ref=None, source=issuer, source_entry_id=item["id"],
                        requested_by=by, approved_by=f"seq:{sequence}",
                        created_at=item["created_at"], expires_at=item["expires_at"],
                        identifiers=item["identifiers"])
            added += 1
        else:
            conn.execute(update(registry_entries).where(registry_entries.c.id == local).values(
                reason=item["reason"], expires_at=item["expires_at"], changed_at=now_ns))
            updated += 1
    if held:
        conn.execute(update(registry_entries).where(registry_entries.c.id.in_(held.values()))
                     .values(state=entries.REMOVED, changed_at=now_ns))
    return Imported(issuer, sequence, added, updated, len(held))
