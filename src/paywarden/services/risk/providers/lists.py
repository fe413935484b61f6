"""Registry and sanctions hits as features: a hit is a reason, never a decline by itself.

:class:`RegistryHits` hashes what the screening knows of the parties — the customer's
e-mail (read once per ``email_cache_s`` from its sealed column, then kept as its registry
digest input only in memory), the payee's IBAN, and the device id, card fingerprint and
further identifiers the caller put on the :class:`~..features.Subject` — and looks them
up in one indexed query on the engine's connection (``Registry.hits_in``). Identifiers
are normalised before hashing there, so another e-mail case or phone format matches.

:class:`SanctionsHits` screens the payee's and the merchant's names against the
in-memory sanctions index (``Sanctions.screen_name``: no query at all).

The built-in rule set sends either hit to review (decision 0035): an entry may be about
a victim whose identifier was stolen, and a fuzzy name match is often a namesake, so an
analyst looks before money is refused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import bindparam, select

from ....adapters.store.schema import users
from ....domain.errors import DomainError
from ....domain.risk import Value
from ....domain.risk.names import NAME_CHARS_MAX, NameKind
from ...registry import Registry, entries
from ...sealed import FieldKeys, open_text
from ..features import Context
from ..sanctions import Sanctions

NS = 1_000_000_000
EMAIL_CACHE_SIZE_MAX = 10_000


EMAIL = select(users.c.email_sealed).where(users.c.id == bindparam("user"))


class _Emails:
    """The customers' e-mails for the registry lookup: one small query and one unseal
    per customer per ``ttl_s`` instead of per screening. Bounded (least recently used
    goes); a changed e-mail is seen within ``ttl_s``."""

    def __init__(self, keys: FieldKeys, *, ttl_s: int, size_max: int) -> None:
        self._keys = keys
        self._ttl_ns = ttl_s * NS
        self._size_max = size_max
        self._lock = threading.Lock()
        self._held: OrderedDict[str, tuple[int, str | None]] = OrderedDict()

    def of(self, ctx: Context, user_id: str) -> str | None:
        with self._lock:
            held = self._held.get(user_id)
            if held is not None and ctx.now_ns - held[0] < self._ttl_ns:
                self._held.move_to_end(user_id)
                return held[1]
        sealed = ctx.reads.scalar(EMAIL, {"user": user_id})
        email = open_text(self._keys, sealed, table="users", column="email_sealed",
                          row=user_id)
        with self._lock:
            self._held[user_id] = (ctx.now_ns, email)
            self._held.move_to_end(user_id)
            while len(self._held) > self._size_max:
                self._held.popitem(last=False)
        return email


class RegistryHits:
    provides: ClassVar[Mapping[str, str]] = {
        "registry_hit": "boolean", "registry_hits": "number", "registry_reason": "string",
        "registry_source": "string"}

    def __init__(self, registry: Registry, *, keys: FieldKeys, email_cache_s: int) -> None:
        self._registry = registry
        self._emails = _Emails(keys, ttl_s=email_cache_s, size_max=EMAIL_CACHE_SIZE_MAX)

    def identifiers(self, ctx: Context) -> list[tuple[str, str]]:
        s = ctx.subject
        found = list(s.identifiers)
        if s.user_id is not None:
            email = self._emails.of(ctx, s.user_id)
            if email:
                found.append(("email", email))
        for kind, value in (("iban", s.counterparty), ("device_id", s.device_id),
                            ("card_fingerprint", s.card_fingerprint)):
            if value:
                found.append((kind, value))
        return found

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        wanted = self._registry.wanted(self.identifiers(ctx))
        rows = [r for params in entries.hit_params(list(wanted), now_ns=ctx.now_ns)
                for r in ctx.reads.rows(entries.HITS, params)]
        hits = self._registry.hits_of(rows, wanted)
        first = hits[0] if hits else None
        return {"registry_hit": first is not None, "registry_hits": len(hits),
                "registry_reason": first.reason if first else "",
                "registry_source": first.source if first else ""}


class SanctionsHits:
    provides: ClassVar[Mapping[str, str]] = {
        "sanctions_hit": "boolean", "sanctions_score": "number", "sanctions_entity": "string"}

    def __init__(self, sanctions: Sanctions) -> None:
        self._sanctions = sanctions

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        best: tuple[float, str] = (0.0, "")
        for name, kind in ((s.counterparty_name, NameKind.ANY),
                           (s.merchant_name, NameKind.ORGANIZATION)):
            if not name:
                continue
            try:
                hits = self._sanctions.screen_name(name[:NAME_CHARS_MAX], kind)
            except DomainError:
                continue  # not a name that can be screened: nothing listed matches it
            if hits and hits[0].score > best[0]:
                best = (hits[0].score, hits[0].entity_id)
        return {"sanctions_hit": best[0] > 0, "sanctions_score": best[0],
                "sanctions_entity": best[1][:64]}
