"""``verify`` catches rows changed behind the engine's back, each named."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from paywarden.adapters.store import Database
from paywarden.domain.ledger import AccountFlags, Transfer, TransferFlags, TransferResult
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.verify import verify_ledger

EUR = 978


@pytest.fixture
def busy(engine: LedgerEngine) -> LedgerEngine:
    engine.create_accounts(
        [
            NewAccount(1, EUR, 1),
            NewAccount(2, EUR, 1, int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)),
            NewAccount(3, EUR, 1),
        ]
    ).result()
    engine.execute(
        [
            Transfer("d", 1, 2, 1_000, EUR, 1),
            Transfer("p1", 2, 3, 100, EUR, 1),
            Transfer("h1", 2, 3, 200, EUR, 1, TransferFlags.PENDING),
            Transfer("h2", 2, 3, 300, EUR, 1, TransferFlags.PENDING),
            Transfer("h3", 2, 3, 50, EUR, 1, TransferFlags.PENDING),
            Transfer("c1", 0, 0, 150, 0, 0, TransferFlags.POST_PENDING, pending_id="h1"),
            Transfer("v2", 0, 0, None, 0, 0, TransferFlags.VOID_PENDING, pending_id="h2"),
            Transfer("p2", 1, 3, 5, EUR, 1),
        ]
    )
    assert engine.execute([Transfer("too-much", 2, 3, 10_000, EUR, 1)]) == [
        TransferResult.EXCEEDS_CREDITS]  # recorded as failed: moves nothing
    assert verify_ledger(engine._database) == []
    assert verify_audit(engine._database) == []
    return engine


def tamper(database: Database, sql: str) -> set[str]:
    with database.engine.begin() as conn:
        assert conn.execute(text(sql)).rowcount >= 1
    return {v.check for v in verify_ledger(database)}


def test_a_sound_ledger_verifies(busy: LedgerEngine) -> None:
    assert verify_ledger(busy._database) == []


def test_an_amount_changed_in_the_database_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "UPDATE transfers SET amount = 101 WHERE id = 'p1'")
    assert {"balance_mismatch", "history_mismatch"} <= found


def test_a_balance_changed_in_the_database_is_caught(busy: LedgerEngine) -> None:
    found = tamper(
        busy._database, "UPDATE accounts SET credits_posted = credits_posted + 500 WHERE id = 2"
    )
    assert {"ledger_unbalanced", "balance_mismatch", "history_mismatch"} <= found


def test_money_moved_consistently_on_both_sides_is_still_caught(busy: LedgerEngine) -> None:
    # The insider adds to one account and takes from another: totals still balance.
    found = tamper(
        busy._database,
        "UPDATE accounts SET credits_posted = credits_posted + CASE id WHEN 3 "
        "THEN 40 ELSE -40 END WHERE id IN (2, 3)",
    )
    assert "ledger_unbalanced" not in found
    assert {"balance_mismatch", "history_mismatch"} <= found


def test_a_deleted_transfer_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "DELETE FROM transfers WHERE id = 'p2'")
    assert {"balance_mismatch", "history_mismatch"} <= found


def test_a_pending_both_posted_and_voided_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "UPDATE transfers SET pending_id = 'h1' WHERE id = 'v2'")
    assert "pending_resolved_twice" in found


def test_a_pending_state_flipped_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "UPDATE pending_transfers SET state = 2 WHERE amount = 50")
    assert {"pending_state_mismatch", "balance_mismatch"} <= found


def test_a_broken_flag_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "UPDATE accounts SET debits_posted = 5000 WHERE id = 2")
    assert "flags_broken" in found


def test_an_id_both_failed_and_applied_is_caught(busy: LedgerEngine) -> None:
    found = tamper(busy._database, "UPDATE transfers_failed SET id = 'p1' WHERE id = 'too-much'")
    assert found == {"failed_id_applied"}


def audit_codes(database: Database, sql: str) -> set[str]:
    with database.engine.begin() as conn:
        assert conn.execute(text(sql)).rowcount >= 1
    return {p.code for p in verify_audit(database)}


def test_a_failed_record_changed_behind_the_engine_is_caught_by_the_audit(
        busy: LedgerEngine) -> None:
    found = audit_codes(busy._database,
                        "UPDATE transfers_failed SET amount = 1 WHERE id = 'too-much'")
    assert found == {"ledger_batch_digest_mismatch"}


def test_a_failed_record_deleted_to_free_its_id_is_caught_by_the_audit(
        busy: LedgerEngine) -> None:
    found = audit_codes(busy._database, "DELETE FROM transfers_failed WHERE id = 'too-much'")
    assert found == {"ledger_batch_digest_mismatch"}


def test_a_failed_record_inserted_behind_the_engine_is_caught_by_the_audit(
        busy: LedgerEngine) -> None:
    found = audit_codes(busy._database, "INSERT INTO transfers_failed SELECT timestamp - 1, "
                        "'blocker', debit_account_id, credit_account_id, amount, ledger, code, "
                        "flags, pending_id, timeout_s, user_data, result FROM transfers_failed")
    assert found == {"transfers_not_audited"}


def test_verify_command_exits_non_zero_naming_the_violation(
    busy: LedgerEngine, database_url: str
) -> None:
    env = {"PAYWARDEN_DATABASE_URL": database_url, "PATH": ""}
    ok = subprocess.run(
        [sys.executable, "-m", "paywarden", "verify", "--json"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    tamper(busy._database, "UPDATE transfers SET amount = 99 WHERE id = 'p1'")
    bad = subprocess.run(
        [sys.executable, "-m", "paywarden", "verify", "--json"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "balance_mismatch" in bad.stdout and "'p1'" in bad.stdout
