"""Enabling a risk rule in tests of the risk engine: back-tested, then published as the
approval engine's executor does once a second person approved the change
(services/approvals/controls.py). The four-eyes path itself is tested over HTTP
(tests/integration/test_risk_coverage.py)."""

from __future__ import annotations

from paywarden.bootstrap import Platform
from paywarden.domain.risk import RuleState


def rule_enabled(platform: Platform, rule_id: str) -> None:
    rules = platform.risk.rules
    version = rules.current().version
    platform.risk_backtests.run(version, days=7, actor="ann")
    assert rules.check_change(rule_id, RuleState.ACTIVE) == version
    with platform.database.engine.begin() as conn:
        rules.change_state(conn, version=version, rule_id=rule_id, to_state=RuleState.ACTIVE,
                           actor="ben", approval_id="apr_" + "0" * 24)
