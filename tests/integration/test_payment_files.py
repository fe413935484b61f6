"""A customer's pain.001 payment file: checked whole before anything moves, confirmed by
one step-up over the file, each payment a transfer to a payee; the same file again is a
retry, not a second payment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_transfers
from paywarden.domain.clearing.messages import Channel, CreditTransfer, Pain001, Party
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.banking.payment_files import (
    PaymentFileRefused,
    PaymentFiles,
    file_digest,
)
from paywarden.services.ledger.verify import verify_ledger

from ..support.clearing_fakes import BANK, ELSEWHERE_BIC
from ..support.platform import platform_of
from ..support.transfers import (
    COOLING_S,
    ELSEWHERE,
    Customer,
    add_payee,
    balances,
    confirm,
    customer,
    transfer_api,
    wait,
)

SECOND_ELSEWHERE = "DE75512108001245126199"  # another bank's account


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path)


@pytest.fixture
def files(api: TestClient) -> PaymentFiles:
    p = platform_of(api)
    return PaymentFiles(p.database, accounts=p.banking.accounts, transfers=p.banking.transfers,
                        step_up=p.step_up)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=1_000_00)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return customer(api, "bob")


def payment(n: int, iban: str, amount: int, currency: str = "EUR") -> CreditTransfer:
    return CreditTransfer(f"00000000-0000-4000-8000-{n:012d}", f"inv-{n}", f"inv-{n}",
                          Money(amount, currency), Party("Ada", "NL00PAYW0000000000", BANK),
                          Party(f"Supplier {n}", iban, ELSEWHERE_BIC), 0, Channel.RTGS,
                          f"invoice {n}")


def pain001(who: Customer, *payments: CreditTransfer, msg_id: str = "file-1") -> Pain001:
    debtor = Party("Ada", who.account["iban"], BANK)
    return Pain001(msg_id, 0, "Ada", debtor, payments)


def step_up_for(api: TestClient, who: Customer, order: Pain001) -> str:
    total = sum(p.amount.amount_minor for p in order.payments)
    return confirm(api, who, "payment_file", total, who.account["id"], file_digest(order))


def movements(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(bank_transfers).where(
            bank_transfers.c.id.like("pf_%"))).scalar_one()


def payees(api: TestClient, who: Customer, *ibans: str) -> None:
    for n, iban in enumerate(ibans):
        add_payee(api, who, f"Supplier {n}", iban)
    wait(api, COOLING_S)


def summary(results: list[Any]) -> list[tuple[str, str | None, str | None]]:
    return [(r.end_to_end_id, None if r.movement is None else str(r.movement.kind),
             r.code) for r in results]


def test_a_file_of_three_payments_makes_three_transfers_once(
        api: TestClient, files: PaymentFiles, ada: Customer, bob: Customer) -> None:
    payees(api, ada, ELSEWHERE, SECOND_ELSEWHERE, bob.account["iban"])
    order = pain001(ada, payment(1, ELSEWHERE, 100_00), payment(2, SECOND_ELSEWHERE, 50_00),
                    payment(3, bob.account["iban"], 25_00))
    results = files.submit(user_of(api, ada), ada.account["id"], order,
                           evidence_id=step_up_for(api, ada, order))
    assert summary(results) == [("inv-1", "external", None), ("inv-2", "external", None),
                                ("inv-3", "internal", None)]
    assert movements(api) == 3
    assert balances(api, ada) == (975_00, 825_00)  # two pending to other banks
    assert balances(api, bob) == (25_00, 25_00)
    again = files.submit(user_of(api, ada), ada.account["id"], order, evidence_id=None)
    assert [r.movement.created for r in again] == [False] * 3  # type: ignore[union-attr]
    assert movements(api) == 3
    assert verify_ledger(platform_of(api).database) == []


def test_a_file_with_one_bad_payment_moves_nothing_and_keeps_the_step_up_unused(
        api: TestClient, files: PaymentFiles, ada: Customer) -> None:
    payees(api, ada, ELSEWHERE)
    order = pain001(ada, payment(1, ELSEWHERE, 100_00), payment(2, SECOND_ELSEWHERE, 50_00),
                    payment(3, ELSEWHERE, 5_00, currency="USD"))
    evidence = step_up_for(api, ada, order)
    with pytest.raises(PaymentFileRefused) as refused:
        files.submit(user_of(api, ada), ada.account["id"], order, evidence_id=evidence)
    assert [(i, code) for i, code, _ in refused.value.problems] == [
        (1, "payee_unknown"), (2, "currency_mismatch")]
    assert movements(api) == 0 and balances(api, ada) == (1_000_00, 1_000_00)
    good = pain001(ada, payment(1, ELSEWHERE, 100_00))
    with pytest.raises(DomainError) as mismatch:  # that evidence covered the other file
        files.submit(user_of(api, ada), ada.account["id"], good, evidence_id=evidence)
    assert mismatch.value.code == "step_up_mismatch"
    assert movements(api) == 0


def test_a_file_without_a_step_up_or_beyond_the_balance_moves_nothing(
        api: TestClient, files: PaymentFiles, ada: Customer) -> None:
    payees(api, ada, ELSEWHERE)
    order = pain001(ada, payment(1, ELSEWHERE, 100_00))
    with pytest.raises(DomainError) as refused:
        files.submit(user_of(api, ada), ada.account["id"], order, evidence_id=None)
    assert refused.value.code == "step_up_required"
    too_much = pain001(ada, payment(1, ELSEWHERE, 600_00), payment(2, ELSEWHERE, 600_00))
    with pytest.raises(DomainError) as refused:
        files.submit(user_of(api, ada), ada.account["id"], too_much,
                     evidence_id=step_up_for(api, ada, too_much))
    assert refused.value.code == "insufficient_funds"
    assert movements(api) == 0


def test_a_file_for_another_customers_account_is_not_found(
        api: TestClient, files: PaymentFiles, ada: Customer, bob: Customer) -> None:
    order = pain001(ada, payment(1, ELSEWHERE, 1_00))
    with pytest.raises(DomainError) as refused:
        files.submit(user_of(api, bob), ada.account["id"], order, evidence_id=None)
    assert refused.value.code == "not_found"


def user_of(api: TestClient, who: Customer) -> str:
    r = api.get("/v1/me", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]  # type: ignore[no-any-return]


def test_a_files_payments_count_the_ones_before_them_as_one_by_one(
        api: TestClient, files: PaymentFiles, ada: Customer) -> None:
    """Written together, screened in order: the file's tenth payment in a minute is the
    customer's tenth (the velocity rule holds it for review), not their first."""
    payees(api, ada, ELSEWHERE, SECOND_ELSEWHERE)
    order = pain001(ada, *[payment(n, (ELSEWHERE, SECOND_ELSEWHERE)[n % 2], 1_00)
                           for n in range(12)])
    results = files.submit(user_of(api, ada), ada.account["id"], order,
                           evidence_id=step_up_for(api, ada, order))
    states = [str(r.movement.state) for r in results]  # type: ignore[union-attr]
    assert states == ["pending"] * 10 + ["held"] * 2, states
    held = results[-1].movement
    assert held is not None and held.reason is not None and "velocity_customer" in held.reason
    assert verify_ledger(platform_of(api).database) == []


def test_a_file_passing_the_daily_limit_runs_the_payments_within_it_and_refuses_the_rest(
        api: TestClient, files: PaymentFiles, ada: Customer) -> None:
    """All of a file's payments are counted in one transaction: each sees the ones
    before it (the day's sum is kept in the transaction, not read again)."""
    from paywarden.services.banking.limits import LimitKind

    payees(api, ada, ELSEWHERE, SECOND_ELSEWHERE)
    user = user_of(api, ada)
    platform_of(api).banking.limits.set(user, LimitKind.PER_DAY, "EUR", 35_00,
                                        evidence_id=None, actor=user)
    platform_of(api).banking.limits.set(user, LimitKind.PER_PAYEE, "EUR", 25_00,
                                        evidence_id=None, actor=user)
    order = pain001(ada, *[payment(n, (ELSEWHERE, SECOND_ELSEWHERE)[n % 2], 10_00)
                           for n in range(5)])
    results = files.submit(user, ada.account["id"], order,
                           evidence_id=step_up_for(api, ada, order))
    # 10 + 10 + 10 (30 in all, 20 to ELSEWHERE) then 10 more passes the day's 35.
    assert [r.code for r in results] == [None, None, None, "limit_per_day_exceeded",
                                         "limit_per_day_exceeded"]
    assert balances(api, ada)[1] == 1_000_00 - 30_00  # available: only three reserved
    again = pain001(ada, payment(9, ELSEWHERE, 5_00), payment(10, ELSEWHERE, 1_00),
                    msg_id="file-2")
    later = files.submit(user, ada.account["id"], again,
                         evidence_id=step_up_for(api, ada, again))
    # ELSEWHERE has 20 of its 25: 5 fits the payee's limit and the day's, 1 more fits neither.
    assert [r.code for r in later] == [None, "limit_per_day_exceeded"]


def test_a_new_file_waits_while_transfers_to_other_banks_back_up_but_a_retry_is_answered(
        api: TestClient, ada: Customer) -> None:
    p = platform_of(api)
    files = PaymentFiles(p.database, accounts=p.banking.accounts,
                         transfers=p.banking.transfers, step_up=p.step_up, backlog_max=2)
    payees(api, ada, ELSEWHERE, SECOND_ELSEWHERE)
    user, account = user_of(api, ada), ada.account["id"]
    first = pain001(ada, payment(1, ELSEWHERE, 10_00), payment(2, SECOND_ELSEWHERE, 10_00),
                    payment(3, ELSEWHERE, 10_00))
    files.submit(user, account, first, evidence_id=step_up_for(api, ada, first))
    second = pain001(ada, payment(4, ELSEWHERE, 5_00), msg_id="file-2")
    evidence = step_up_for(api, ada, second)

    for attempt in (lambda: files.check(user, account, second),
                    lambda: files.submit(user, account, second, evidence_id=evidence)):
        with pytest.raises(DomainError) as busy:  # three on their way, more than two
            attempt()
        assert busy.value.code == "payments_busy"
    assert movements(api) == 3
    again = files.submit(user, account, first, evidence_id=None)  # a retry: answered
    assert [r.movement.created for r in again] == [False] * 3  # type: ignore[union-attr]

    assert p.banking.rail.run_due() == 3  # the rail took them: nothing on its way now
    done = files.submit(user, account, second, evidence_id=evidence)  # its step-up kept
    assert done[0].movement is not None and done[0].movement.created
    assert movements(api) == 4
    assert verify_ledger(p.database) == []
