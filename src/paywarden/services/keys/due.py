"""Alerts for key rotations coming due: one per key version, raised once.

The keys chore rotates an active version once its cryptoperiod ends
(:func:`.rotation.rotate_due`). Staff are told ahead of that, ``within_days`` before,
so that whoever relies on a published signing key (merchants verifying webhooks and
receipts against the JWKS) can be warned and a rotation can be planned rather than
found. The dedupe key is the version's ``kid``: the chore runs every few minutes, the
alert is raised once per version (decision 0050).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..alerts import Alert, Alerts, Severity, raise_alert
from .purposes import ACTIVE, AGE_ROTATED, ROTATABLE
from .rotation import due_at
from .store import versions

if TYPE_CHECKING:
    from .keyring import Keys

KIND = "keys.rotation_due"
NS_PER_DAY = 86_400 * 1_000_000_000


def alert_rotations_due(keys: Keys, alerts: Alerts, *, within_days: int) -> list[Alert]:
    """Raise ``keys.rotation_due`` for each active version whose cryptoperiod ends within
    ``within_days`` (or has ended); the alerts raised now (not those raised before)."""
    now = keys.clock.now_ns()
    raised: list[Alert] = []
    with keys.database.engine.begin() as conn:
        # One active version per purpose: as many alerts at most as there are purposes.
        for version in versions(conn):
            ends = due_at(keys, version)
            if version.state != ACTIVE or version.purpose not in ROTATABLE or ends is None \
                    or ends - now > within_days * NS_PER_DAY:
                continue
            when = datetime.fromtimestamp(ends // 1_000_000_000, UTC).strftime("%Y-%m-%d")
            made = raise_alert(
                conn, at_ns=now, kind=KIND, severity=Severity.WARNING,
                subject=f"Key {version.purpose} v{version.version} is due for rotation "
                        f"on {when}" + ("" if version.purpose in AGE_ROTATED else
                                        ": a clearing key is not rotated "
                                        "by age; its hub must certify the next one"),
                detail={"kid": version.kid, "purpose": version.purpose,
                        "version": version.version, "due_at_ns": ends},
                dedupe_key=f"{KIND}:{version.kid}")
            if made is not None:
                raised.append(made)
    for alert in raised:  # after the commit: the stored alert is the record
        alerts.mail(alert)
    return raised
