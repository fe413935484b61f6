"""``Certification``: the use cases, over the database, the clock, the keyring and the fetcher.

The composition root (``paywarden.bootstrap``) reads the ``domain_verification_*``
settings into the :class:`.verification.Fetcher`; it also decides whether return
URLs may be http (verification over http) and private (a private fetch allowed).

Personal data is sealed before a write transaction opens and the CA key is
fetched before one opens (the keyring may have to create a first version,
which on SQLite must not wait behind the caller's own write lock). Every change
writes its audit record, ids and codes only, in its own transaction.
"""

from __future__ import annotations

from cryptography import x509
from sqlalchemy import update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import merchant_domains
from ...domain.errors import DomainError
from .. import audit
from ..keys import Keys
from ..merchants.keys import lock_merchant
from . import applications, authority, decisions, queue, registry
from .applications import Application, BusinessDetails, Domain
from .certificates import ACTIVE, REVOKED, SUSPENDED, Certificate
from .queue import Queued
from .registry import Entry
from .selling import CertifiedMerchant, check_can_sell
from .verification import Fetcher


class Certification:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, fetcher: Fetcher,
                 validity_days: int, public_url: str) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self.fetcher = fetcher
        self._validity_days = validity_days
        self._public_url = public_url

    # -- the merchant's side ------------------------------------------------------------

    def apply(self, merchant_id: str, details: BusinessDetails, domains: list[str], *,
              actor: str) -> Application:
        details = details.checked()
        names = applications.check_domains(
            domains, allow_private=self.fetcher.allow_private)
        sealed = applications.sealed_values(self._keys, merchant_id, details)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            lock_merchant(conn, merchant_id)
            before, added = applications.submit(conn, merchant_id=merchant_id, sealed=sealed,
                                                domains=names, now_ns=now)
            audit.record(conn, at_ns=now, actor=actor, action="certification.apply",
                         object_id=merchant_id, detail={"domain_ids_added": added},
                         before=None if before is None else {"application": before},
                         after={"application": applications.SUBMITTED})
        return self._must_application(merchant_id)

    def application(self, merchant_id: str) -> Application | None:
        with self._database.engine.connect() as conn:
            return applications.load(conn, self._keys, merchant_id)

    def verify_domain(self, merchant_id: str, domain: str, *, actor: str) -> Domain:
        """Fetch the domain's token and mark it verified; a failed check is kept and raised."""
        name = domain.strip().lower().removesuffix(".")
        found = next((d for d in self._domains(merchant_id) if d.domain == name), None)
        if found is None:
            raise DomainError("not_found", "the application lists no such domain")
        if found.verified:
            return found
        failure: DomainError | None = None
        try:
            self.fetcher.check(found.domain, found.token)
        except DomainError as exc:
            failure = exc
        now = self._clock.now_ns()
        values = {"checked_at": now, "check_error": failure.code if failure else None}
        if failure is None:
            values["verified_at"] = now
        with self._database.engine.begin() as conn:
            conn.execute(update(merchant_domains).where(merchant_domains.c.id == found.id)
                         .values(**values))
            audit.record(conn, at_ns=now, actor=actor, action="certification.domain.verify",
                         object_id=found.id, outcome="ok" if failure is None else "refused",
                         detail={"merchant_id": merchant_id,
                                 "error": None if failure is None else failure.code},
                         before={"verified_at": None},
                         after={"verified_at": values.get("verified_at")})
        if failure is not None:
            raise failure
        return next(d for d in self._domains(merchant_id) if d.id == found.id)

    def attest_domain(self, merchant_id: str, domain: str, *, actor: str) -> Domain:
        """Mark a domain verified without fetching: an operator on the server host checked it
        some other way (the CLI's ``--attest``; never reachable over the API). Audited as such."""
        name = domain.strip().lower().removesuffix(".")
        found = next((d for d in self._domains(merchant_id) if d.domain == name), None)
        if found is None:
            raise DomainError("not_found", "the application lists no such domain")
        if found.verified:
            return found
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            conn.execute(update(merchant_domains).where(merchant_domains.c.id == found.id)
                         .values(verified_at=now, checked_at=now, check_error=None))
            audit.record(conn, at_ns=now, actor=actor, action="certification.domain.attest",
                         object_id=found.id, detail={"merchant_id": merchant_id},
                         before={"verified_at": None}, after={"verified_at": now})
        return next(d for d in self._domains(merchant_id) if d.id == found.id)

    # -- staff decisions ---------------------------------------------------------------

    def queued(self, *, status: str, limit: int = queue.QUEUE_SIZE_MAX) -> list[Queued]:
        """The staff's queue: applications in ``status``, each with its certificate."""
        with self._database.engine.connect() as conn:
            return queue.queue(conn, self._keys, status=status, limit=limit)

    def approve(self, merchant_id: str, *, actor: str) -> Certificate:
        application = self.application(merchant_id)
        if application is None:
            raise DomainError("not_found", f"merchant {merchant_id} has not applied")
        now = self._clock.now_ns()
        ca = self.ca(actor=actor)
        with self._database.engine.begin() as conn:
            return decisions.approve(conn, ca, merchant_id=merchant_id,
                                     legal_name=application.details.legal_name, now_ns=now,
                                     actor=actor,
                                     validity_days=self._validity_days,
                                     public_url=self._public_url)

    def reject(self, merchant_id: str, *, reason: str, actor: str) -> Application:
        with self._database.engine.begin() as conn:
            decisions.reject(conn, merchant_id=merchant_id, reason=reason,
                             now_ns=self._clock.now_ns(), actor=actor)
        return self._must_application(merchant_id)

    def suspend(self, merchant_id: str, *, actor: str) -> Certificate:
        return self._move(merchant_id, SUSPENDED, None, actor)

    def reinstate(self, merchant_id: str, *, actor: str) -> Certificate:
        return self._move(merchant_id, ACTIVE, None, actor)

    def revoke(self, merchant_id: str, *, reason: str, actor: str) -> Certificate:
        return self._move(merchant_id, REVOKED, reason, actor)

    # -- public --------------------------------------------------------------------------

    def ca(self, *, actor: str = audit.SYSTEM) -> authority.CaCertificate:
        return authority.current_ca(self._database, self._keys, now_ns=self._clock.now_ns(),
                                    actor=actor)

    def registry(self, *, after: str | None = None,
                 limit: int = registry.PAGE_SIZE_MAX) -> list[Entry]:
        with self._database.engine.connect() as conn:
            return registry.entries(conn, after=after, limit=limit)

    def registry_entry(self, merchant_id: str) -> Entry | None:
        with self._database.engine.connect() as conn:
            return registry.entry(conn, merchant_id)

    def revocations(self) -> list[Certificate]:
        with self._database.engine.connect() as conn:
            return registry.revocations(conn)

    def crl(self) -> x509.CertificateRevocationList:
        ca = self.ca()
        with self._database.engine.connect() as conn:
            return authority.crl(conn, ca, now_ns=self._clock.now_ns())

    def check_can_sell(self, merchant_id: str, return_url: str | None = None
                       ) -> CertifiedMerchant:
        with self._database.engine.connect() as conn:
            return check_can_sell(conn, merchant_id, return_url, now_ns=self._clock.now_ns(),
                                  allow_http=self.fetcher.scheme == "http",
                                  allow_private=self.fetcher.allow_private)

    # -- helpers -------------------------------------------------------------------------

    def _move(self, merchant_id: str, to: str, reason: str | None, actor: str) -> Certificate:
        with self._database.engine.begin() as conn:
            return decisions.move(conn, merchant_id=merchant_id, to=to, reason=reason,
                                  now_ns=self._clock.now_ns(), actor=actor)

    def _domains(self, merchant_id: str) -> tuple[Domain, ...]:
        with self._database.engine.connect() as conn:
            return applications.domains_of(conn, merchant_id)

    def _must_application(self, merchant_id: str) -> Application:
        found = self.application(merchant_id)
        if found is None:
            raise DomainError("not_found", f"merchant {merchant_id} has not applied")
        return found
