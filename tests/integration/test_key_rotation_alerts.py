"""Key rotations coming due raise one staff alert per key version, on SQLite and
PostgreSQL: not before the warning window, once however often the chore runs, again for
the next version after the rotation, and e-mailed after the commit."""

from __future__ import annotations

import os

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.crypto import LocalMasterKey
from paywarden.adapters.store import Database
from paywarden.services.alerts import Alert, Alerts
from paywarden.services.keys import Keys
from paywarden.services.keys.due import KIND, alert_rotations_due

DAY_S = 86_400
SIGNING = ["backups", "ca", "cheques", "clearing", "documents", "receipts", "registry",
           "tree_heads", "webhooks"]


def test_a_key_due_within_the_window_raises_one_alert_per_version(
        database: Database, clock: FakeClock) -> None:
    keys = Keys(database, clock=clock, master=LocalMasterKey(os.urandom(32)),
                cryptoperiod_data_days=30, cryptoperiod_signing_days=10,
                publish_retired_days=2, cache_s=60)
    mailed: list[Alert] = []
    alerts = Alerts(database, clock=clock, mailer=mailed.append)
    keys.ensure()
    assert alert_rotations_due(keys, alerts, within_days=3) == []  # 10 days left
    clock.advance(7 * DAY_S + 1)  # the signing keys' rotation is due within 3 days
    raised = alert_rotations_due(keys, alerts, within_days=3)
    assert sorted(a.detail["purpose"] for a in raised) == SIGNING
    assert {a.kind for a in raised} == {KIND} and mailed == raised
    assert all(a.detail["kid"] and "due for rotation" in a.subject for a in raised)
    assert alert_rotations_due(keys, alerts, within_days=3) == []  # deduped per version
    keys.rotate_due()  # not yet: nothing rotated, nothing raised again
    clock.advance(3 * DAY_S)
    by_age = sorted(set(SIGNING) - {"clearing"})  # its hub must certify a new clearing key
    assert sorted(v.purpose for v in keys.rotate_due()) == by_age
    (clearing,) = [a for a in raised if a.detail["purpose"] == "clearing"]
    assert "its hub must certify the next one" in clearing.subject
    assert alert_rotations_due(keys, alerts, within_days=3) == []  # the new versions: 10 days
    clock.advance(8 * DAY_S)
    again = alert_rotations_due(keys, alerts, within_days=3)
    assert sorted(a.detail["purpose"] for a in again) == by_age
    assert not {a.detail["kid"] for a in again} & {a.detail["kid"] for a in raised}
    stored, _ = alerts.page(actor="cli:test", open_only=True)
    assert len(stored) == len(SIGNING) + len(by_age)
