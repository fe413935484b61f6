"""The credit registry of dishonest parties (decision 0031).

``Registry`` is the one door: staff changes, checked and applied as four-eyes
commands of the approval engine (entries.py), what a
subject may see and their appeal (subjects.py), the signed feed (feed.py), and
:meth:`Registry.hits`, the risk engine's feature provider.

A hit is a feature and a reason for the engine, never a decision: an entry may be
wrong, out of date, or about someone whose identifier was stolen (the identity-theft
victim's e-mail is exactly what a fraudster reuses), and another institution's entry
is only as good as its evidence, which we never see. So the engine weighs a hit with
its other features and its rules; a rule may send a hit to review or step-up, and the
analyst sees the reason category and source. Nothing here declines anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.errors import DomainError
from ...domain.insider import Activity
from ...domain.registry import Action, Kind
from .. import audit
from ..insider import Insider
from ..keys import Keys
from ..keys.purposes import REGISTRY, REGISTRY_INDEX
from . import entries, feed, subjects
from . import identifiers as ids_
from .entries import Entry
from .feed import Imported
from .subjects import Appeal, SubjectEntry

log = structlog.get_logger(__name__)
NS_PER_S = 1_000_000_000
LIST_SIZE_MAX = 100
FEED_CHARS_PER_ENTRY_MAX = 2_048


@dataclass(frozen=True)
class Hit:
    """One identifier of a movement found in a live entry: a feature and a reason."""

    kind: str  # the identifier's kind, e.g. "email"
    entry_id: str
    reason: str  # the entry's reason category
    source: str  # "local" or the issuer of an imported feed
    expires_at_ns: int


class Registry:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, issuer: str,
                 region: str, appeal_deadline_s: int,
                 feed_entries_max: int, insider: Insider) -> None:
        self._insider = insider
        self._database = database
        self._clock = clock
        self._keys = keys
        self.issuer = issuer
        self.region = region
        self._appeal_deadline_ns = appeal_deadline_s * NS_PER_S
        self._feed_entries_max = feed_entries_max

    # -- the engine's feature provider ----------------------------------------------

    def hits(self, identifiers: Mapping[Kind | str, str], *,
             region: str | None = None) -> list[Hit]:
        """Live, unexpired entries matching any of ``identifiers`` (kind → raw value).

        Each value is normalised for its kind (a phone without "+" is read in
        ``region``, default the bank's country) and hashed; a value that is not a valid
        identifier of its kind is skipped (it cannot be in the registry) and not logged.
        Read-only and not audited: the engine records the decision it makes with it."""
        with self._database.engine.connect() as conn:
            return self.hits_in(conn, identifiers, region=region)

    def hits_in(self, conn: Connection, identifiers: Mapping[Kind | str, str] | Iterable[
            tuple[Kind | str, str]], *, region: str | None = None) -> list[Hit]:
        """:meth:`hits` on the caller's connection; pairs may repeat a kind (a customer's
        e-mail and a payee's IBAN and another)."""
        wanted = self.wanted(identifiers, region=region)
        return self.hits_of(entries.hit_rows(conn, list(wanted), now_ns=self._clock.now_ns()),
                            wanted)

    def wanted(self, identifiers: Mapping[Kind | str, str] | Iterable[tuple[Kind | str, str]],
               *, region: str | None = None) -> dict[str, str]:
        """digest → kind of each identifier that is a valid one of its kind (the risk
        engine runs ``entries.HITS`` with them on its own reads)."""
        pairs = identifiers.items() if isinstance(identifiers, Mapping) else identifiers
        wanted: dict[str, str] = {}
        for kind, value in pairs:
            try:
                digest = ids_.digest(self._keys, kind, value,
                                            region=region or self.region)
                wanted[digest] = str(Kind(kind))
            except DomainError:
                log.info("registry.identifier_skipped", kind=str(kind)[:32])
        return wanted

    @staticmethod
    def hits_of(rows: Iterable[Sequence[Any]], wanted: Mapping[str, str]) -> list[Hit]:
        return sorted((Hit(wanted[d], entry, reason, source, int(expires))
                       for d, entry, reason, source, expires in rows),
                      key=lambda h: (h.kind, h.entry_id))

    # -- writing: a four-eyes command (services/approvals/controls.py) ----------------

    def digests(self, raw: list[tuple[str, str]], *, region: str | None = None
                ) -> list[tuple[str, str]]:
        """(kind, digest) of each (kind, raw value); ``registry_identifier_invalid``."""
        return [(str(ids_.kind_of(k)),
                 ids_.digest(self._keys, k, v, region=region or self.region))
                for k, v in raw]

    def check_request(self, action: Action, body: dict[str, Any], *,
                      entry_id: str | None = None) -> dict[str, Any]:
        """A change's body as the approval engine stores it (entries.check_request)."""
        with self._database.engine.connect() as conn:
            return entries.check_request(conn, action, body, entry_id=entry_id,
                                         now_ns=self._clock.now_ns())

    def apply(self, conn: Connection, action: Action, body: dict[str, Any], *,
              entry_id: str | None, requested_by: str, approver: str, approval_id: str,
              actor: str) -> str:
        """Apply an approved change in the approval's transaction (entries.apply)."""
        return entries.apply(conn, action, body, entry_id=entry_id, requested_by=requested_by,
                             approver=approver, approval_id=approval_id, actor=actor,
                             now_ns=self._clock.now_ns())

    def entry(self, entry_id: str, *, actor: str) -> Entry:
        with self._database.engine.begin() as conn:
            found = entries.get(conn, entry_id)
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="registry.read", object_id=entry_id)
        return found

    # -- the subject -------------------------------------------------------------------

    def subject_status(self, raw: list[tuple[str, str]], *, actor: str,
                       region: str | None = None) -> list[SubjectEntry]:
        digests = [d for _k, d in self.digests(raw, region=region)]
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            found = subjects.status(conn, digests, now_ns=now)
            audit.record(conn, at_ns=now, actor=actor, action="registry.subject_status",
                         object_id="registry", detail={"identifiers": len(digests),
                                                       "entries": len(found)})
        return found

    def appeal(self, entry_id: str, raw: list[tuple[str, str]], *, staff_id: str, actor: str,
               region: str | None = None) -> Appeal:
        digests = [d for _k, d in self.digests(raw, region=region)]
        with self._database.engine.begin() as conn:
            return subjects.appeal(conn, entry_id, digests, actor=actor, staff_id=staff_id,
                                   now_ns=self._clock.now_ns(),
                                   deadline_ns=self._appeal_deadline_ns)

    def appeals(self, *, limit: int = LIST_SIZE_MAX) -> list[Appeal]:
        with self._database.engine.connect() as conn:
            return subjects.appeals(conn, limit=min(limit, LIST_SIZE_MAX))

    # -- the feed ------------------------------------------------------------------------

    def key_id(self) -> str:
        return ids_.key_id(self._keys)

    def install_shared_key(self, secret: bytes, *, actor: str) -> str:
        with self._database.engine.begin() as conn:
            found = ids_.install_shared_key(self._keys, conn, secret,
                                                   now_ns=self._clock.now_ns(), actor=actor)
        self._keys.forget(REGISTRY_INDEX)
        return found

    def export_feed(self, *, actor: str) -> tuple[int, str]:
        key_id = self.key_id()
        self._keys.signer(REGISTRY)  # its first version outside this transaction
        with self._database.engine.begin() as conn:
            self._insider.observe(conn, actor=actor.split("/")[0], activity=Activity.EXPORT)
            return feed.export(conn, self._keys, issuer=self.issuer, key_id=key_id,
                               actor=actor, now_ns=self._clock.now_ns(),
                               entries_max=self._feed_entries_max)

    def import_feed(self, text: str, *, actor: str, allow_gap: bool = False) -> Imported:
        key_id = self.key_id()
        with self._database.engine.begin() as conn:
            return feed.import_(conn, text, key_id=key_id, actor=actor,
                                now_ns=self._clock.now_ns(), allow_gap=allow_gap,
                                entries_max=self._feed_entries_max,
                                text_chars_max=self._feed_entries_max
                                * FEED_CHARS_PER_ENTRY_MAX)


__all__ = ["LIST_SIZE_MAX", "Appeal", "Entry", "Hit", "Imported", "Registry", "SubjectEntry"]
