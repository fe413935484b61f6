"""The platform watches itself: its files against the signed release, its data private.

``serve`` checks once before it listens (a difference refuses the start), then a lane
of its own checks again every ``integrity_interval_s``. While a check finds anything
(:class:`~paywarden.domain.integrity.Findings`), :attr:`Integrity.compromised` is set:
readiness is false and the API refuses every write with 503 ``integrity_compromised``
(``api/app.py``). Each new set of findings is an audit leaf (``integrity.violated``,
naming the files) and a critical staff alert, in one transaction; the check that finds
all well again is a leaf too (``integrity.restored``), and the writes come back.

What the files are checked against:

- **signed**: the release manifest at ``manifest`` (``paywarden release manifest``),
  signed by the pinned release key, read again at every check (so a forged or edited
  manifest is found as soon as the files are);
- **unsigned** (``--allow-unsigned``, development): the files as they were when the
  check first ran. A change while serving is still found; what ran from the start is
  not vouched for, and ``serve`` says so on every start.

Decision 0069.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import structlog

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.integrity import Findings, compare
from .. import audit
from ..alerts import Alerts, Severity, raise_alert
from .hygiene import Private
from .manifest import ManifestRefused, parse_public_key, read_manifest
from .tree import Bytecode, hash_tree

log = structlog.get_logger(__name__)
PACKAGE = "paywarden"
SUBJECT_CHARS_MAX = 200
ALERT_PATH_CHARS_MAX = 64


@dataclass(frozen=True)
class Release:
    """What the running files are checked against."""

    root: Path  # the installed package
    version: str
    manifest: Path
    key: str | None  # the pinned public key, ``ed25519:…``; None: unsigned
    unsigned: bool  # --allow-unsigned: no key is needed, the first check is the baseline


class Integrity:
    def __init__(self, database: Database, *, clock: Clock, alerts: Alerts, release: Release,
                 private: Private) -> None:
        self._database = database
        self._clock = clock
        self._alerts = alerts
        self.release = release
        self._private = private
        self._bytecode = Bytecode(release.root)
        self._baseline: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._compromised: Findings | None = None
        self._recorded: str | None = None  # the digest of the findings last recorded
        self.armed = False  # a serving process checks on its own lane (bootstrap.lanes)

    @property
    def compromised(self) -> Findings | None:
        """The findings of the last check, while it found anything; else None."""
        return self._compromised

    def findings(self) -> Findings:
        """Check now: the files against the release, their bytecode, the data's privacy."""
        with self._lock:
            found = hash_tree(self.release.root)
            manifest: str | None = None
            try:
                expected = self._expected(found)
            except ManifestRefused as exc:
                checked, manifest = Findings(), exc.reason
            else:
                checked = compare(expected, found)
            return replace(checked, manifest=manifest,
                           added=checked.added + tuple(self._bytecode.findings()),
                           exposed=tuple(self._private.problems()))

    def private_problems(self) -> list[str]:
        """The data folder's and the keys' privacy alone (``serve`` checks it first)."""
        return self._private.problems()

    def dispose(self) -> None:
        """For a command's own checker: its database connections go."""
        self._database.dispose()

    def arm(self) -> None:
        """A serving process: check now (unsigned: the files now are the baseline), then on
        its own lane every interval (``Platform.lanes``)."""
        self.settle(self.findings())
        self.armed = True

    def _expected(self, found: dict[str, str]) -> dict[str, str]:
        if self.release.key is not None:
            return read_manifest(self.release.manifest, parse_public_key(self.release.key),
                                 package=PACKAGE, version=self.release.version)
        if not self.release.unsigned:
            raise ManifestRefused("cannot be checked: no release key is pinned "
                                  "(PAYWARDEN_RELEASE_KEY)")
        if self._baseline is None:
            self._baseline = dict(found)
        return self._baseline

    def check(self) -> bool:
        """The lane's turn: check, and record what changed since the last turn."""
        found = self.findings()
        self.settle(found)
        return False

    def settle(self, found: Findings) -> None:
        """Take ``found`` as the state: refuse or accept writes, and record the change."""
        was = self._compromised
        self._compromised = None if found.ok else found
        if found.ok:
            if was is not None or self._recorded is not None:
                self._record_restored()
            return
        if was is None:
            log.critical("integrity.violated", problem=found.summary(), **found.detail())
        if self._recorded != found.digest():
            self.record(found)

    def record(self, found: Findings, *, at_start: bool = False) -> None:
        """The audit leaf naming the files, and the staff alert, in one transaction."""
        detail = found.detail()
        first = (found.lines() or ["?"])[0]
        with self._database.engine.begin() as conn:
            at_ns = self._clock.now_ns()
            audit.record(conn, at_ns=at_ns, actor=audit.SYSTEM, action="integrity.violated",
                         object_id=f"{PACKAGE}-{self.release.version}", outcome="refused",
                         detail={**detail, "at_start": at_start})
            alert = raise_alert(
                conn, at_ns=at_ns, kind="integrity.violated", severity=Severity.CRITICAL,
                subject=("refused to start: " if at_start else "writes refused: ")
                + first[:SUBJECT_CHARS_MAX - 30],
                detail={"findings": found.digest(), "at_start": at_start,
                        **{k: v for k, v in detail["counts"].items()},
                        "manifest": (found.manifest or "")[:ALERT_PATH_CHARS_MAX] or None,
                        "first": first[:ALERT_PATH_CHARS_MAX]},
                dedupe_key=f"integrity.{found.digest()}.{at_ns}")
        self._recorded = found.digest()
        if alert is not None:
            self._alerts.mail(alert)

    def _record_restored(self) -> None:
        with self._database.engine.begin() as conn:
            audit.record(conn, at_ns=self._clock.now_ns(), actor=audit.SYSTEM,
                         action="integrity.restored",
                         object_id=f"{PACKAGE}-{self.release.version}",
                         detail={"findings": self._recorded})
        log.warning("integrity.restored", findings=self._recorded)
        self._recorded = None
