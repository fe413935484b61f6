"""The back office says roles, conflicts, alert kinds and key purposes in words, and those
words follow the tables they describe: a new conflict, staff role, alert kind or key
purpose without words fails here instead of showing a code to a person (decision 0048)."""

from __future__ import annotations

import re
from pathlib import Path

from paywarden.domain.approvals import CONFLICTS
from paywarden.domain.identity.policy import STAFF_ROLES
from paywarden.services.keys.purposes import PURPOSES
from paywarden.web import staff_views as views

SRC = Path(views.__file__).parents[1]


def test_every_conflict_of_the_table_is_said_once_in_words() -> None:
    table = views.conflict_table()
    assert {frozenset({c.first, c.second}) for c in table} == set(CONFLICTS)
    assert len(table) == len(CONFLICTS) and all(c.why for c in table)
    supervisor = ["supervisor" in (c.first, c.second) for c in table]
    assert supervisor == sorted(supervisor)  # the supervisor's pairs come last


def test_every_staff_role_and_key_purpose_has_words() -> None:
    assert set(views.ROLE_WORDS) == set(STAFF_ROLES)
    assert set(views.PURPOSE_WORDS) == set(PURPOSES)


def test_every_alert_kind_the_platform_raises_has_words() -> None:
    raised = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        raised |= set(re.findall(r'kind="([a-z_]+(?:\.[a-z_]+)*)", severity=', text))
        raised |= {f"insider.{a}_burst" for a in ("view", "reveal", "export")
                   if 'kind=f"insider.{activity}_burst"' in text}
    assert raised and raised <= set(views.ALERT_WORDS), raised - set(views.ALERT_WORDS)
    assert views.alert_words("insider.view_burst") == "Unusual number of customer lookups"
    assert views.alert_words("some.new_kind") == "Some new kind"
