"""Deferred net settlement on real databases (decision 0057): positions reserved, committed
and released inside the hub's units of work, windows closed and settled in one linked
ledger chain, once; the cap (min of the net debit cap and the settlement balance) holds
within a group commit, across windows (Mojaloop #3482) and against liquidity withdrawals."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.cli import app
from paywarden.domain.errors import DomainError
from paywarden.domain.ledger import Transfer
from paywarden.domain.ledger.chart import AccountKind, TransferCode
from paywarden.services import audit
from paywarden.services.audit.verify import verify_audit
from paywarden.services.clearing.windows import NetWindows, settlement_account
from paywarden.services.ledger import LedgerEngine
from paywarden.services.ledger.accounts import ensure, platform_account
from paywarden.services.ledger.queries import LedgerQueries
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.writepath import Batch, GroupWriter, Records

A, B, C = "AAAAGB22", "BBBBGB22", "CCCCGB22"
CAPS = {A: 1_000, B: 1_000, C: 1_000}
FUNDED = 5_000
WAIT_S = 30


@pytest.fixture
def writer(engine: LedgerEngine, database: Database, clock: FakeClock) -> Iterator[GroupWriter]:
    w = GroupWriter(database, clock=clock).start()
    yield w
    w.stop()


@pytest.fixture
def net(engine: LedgerEngine, database: Database, clock: FakeClock,
        writer: GroupWriter) -> NetWindows:
    central = platform_account(AccountKind.CENTRAL_BANK, "EUR")
    refs = [settlement_account(bic, "EUR") for bic in (A, B, C)]
    ensure(engine, [central, *refs])
    engine.execute([Transfer(f"fund-{r.owner}", central.id, r.id, FUNDED, r.ledger,
                             int(TransferCode.CLEARING_FUNDING)) for r in refs])
    return NetWindows(database, writer=writer, clock=clock, caps=CAPS.__getitem__)


def hub(writer: GroupWriter, work: Callable[[Batch], Any]) -> Any:
    """A unit of the hub's: ``work`` runs in it, with an audit entry, as the hub's would."""
    answer: list[Any] = []

    def write(batch: Batch) -> None:
        answer.append(work(batch))
        batch.audit(audit.entry(at_ns=batch.now_ns, actor="hub", action="test.hub",
                                object_id="x"))

    writer.execute(Records(write))
    return answer[0]


def transfer(writer: GroupWriter, net: NetWindows, uetr: str, payer: str, payee: str,
             amount: int, *, commit: bool = True) -> bool:
    ok = bool(hub(writer, lambda b: net.reserve(b, uetr, payer, payee, amount, "EUR")))
    if ok and commit:
        hub(writer, lambda b: net.commit(b, uetr))
    return ok


def balance(database: Database, clock: FakeClock, bic: str) -> int:
    view = LedgerQueries(database).account(settlement_account(bic, "EUR").id,
                                           now_ns=clock.now_ns())
    assert view is not None
    return view.balances.credits_posted - view.balances.debits_posted


def sound(database: Database) -> None:
    assert verify_ledger(database) == []
    assert verify_audit(database) == []


def test_a_ring_of_transfers_settles_to_its_net_obligations_in_one_chain_once(
        net: NetWindows, writer: GroupWriter, database: Database, clock: FakeClock) -> None:
    assert transfer(writer, net, "u1", A, B, 300)
    assert transfer(writer, net, "u2", B, C, 200)
    assert transfer(writer, net, "u3", C, A, 50)
    closed = net.close("EUR", actor="staff:ops")
    done = net.settle(closed.id, actor="staff:ops")
    assert done.obligations == {A: -250, B: 100, C: 150}
    assert len(done.transfer_ids) == 3
    assert [balance(database, clock, bic) for bic in (A, B, C)] == [
        FUNDED - 250, FUNDED + 100, FUNDED + 150]
    pass_through = LedgerQueries(database).account(
        platform_account(AccountKind.NET_SETTLEMENT, "EUR").id, now_ns=clock.now_ns())
    assert pass_through is not None
    assert pass_through.balances.credits_posted == pass_through.balances.debits_posted == 250
    with pytest.raises(DomainError) as twice:
        net.settle(closed.id, actor="staff:ops")
    assert twice.value.code == "window_settled"
    views = {v.id: v.public() for v in net.windows("EUR")}
    assert views[closed.id]["state"] == "settled" and views[closed.id]["sum"] == 0
    assert views["EUR-2"]["state"] == "open"
    sound(database)


def test_a_participant_at_its_cap_is_refused_so_the_hub_answers_am04(
        net: NetWindows, writer: GroupWriter) -> None:
    assert transfer(writer, net, "u1", A, B, 1_000, commit=False)
    assert not transfer(writer, net, "u2", A, C, 1)
    hub(writer, lambda b: net.release(b, "u1"))
    assert transfer(writer, net, "u3", A, C, 1_000)


def test_two_reservations_in_one_group_commit_cannot_share_the_same_headroom(
        net: NetWindows, writer: GroupWriter) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(_: Batch) -> None:
        entered.set()
        assert release.wait(WAIT_S)

    held = writer.submit(Records(hold))
    assert entered.wait(WAIT_S)
    answers: list[list[bool]] = [[], []]
    futures: list[Future[Any]] = [
        writer.submit(Records(lambda b, i=i: answers[i].append(
            net.reserve(b, f"u{i}", A, B, 700, "EUR")))) for i in (0, 1)]
    release.set()
    held.result(WAIT_S)
    for f in futures:
        f.result(WAIT_S)
    assert sorted(a[0] for a in answers) == [False, True]


def test_a_refused_units_reservation_is_forgotten_by_the_rest_of_its_batch(
        net: NetWindows, writer: GroupWriter) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(_: Batch) -> None:
        entered.set()
        assert release.wait(WAIT_S)

    def reserve_then_refuse(batch: Batch) -> None:
        assert net.reserve(batch, "gone", A, B, 900, "EUR")
        raise DomainError("refused_later", "the hub refused after reserving")

    held = writer.submit(Records(hold))
    assert entered.wait(WAIT_S)
    refused = writer.submit(Records(reserve_then_refuse))
    kept: list[bool] = []
    after = writer.submit(Records(lambda b: kept.append(net.reserve(b, "kept", A, B, 900, "EUR"))))
    release.set()
    held.result(WAIT_S)
    with pytest.raises(DomainError):
        refused.result(WAIT_S)
    after.result(WAIT_S)
    assert kept == [True]


def test_a_position_reserved_and_committed_in_one_unit_is_stored_committed(
        net: NetWindows, writer: GroupWriter) -> None:
    def both(batch: Batch) -> None:
        assert net.reserve(batch, "u1", A, B, 400, "EUR")
        net.commit(batch, "u1")

    hub(writer, both)
    closed = net.close("EUR", actor="staff:ops")
    assert net.windows("EUR")[1].positions == {A: -400, B: 400}
    assert net.settle(closed.id, actor="staff:ops").obligations == {A: -400, B: 400}


def test_a_close_naming_its_window_closes_it_once_and_a_retry_closes_nothing_more(
        net: NetWindows, writer: GroupWriter) -> None:
    """The hub page's close names the window it shows: a retry (its answer lost) answers
    that window as it stands, never closing the next one in its stead."""
    assert transfer(writer, net, "u1", A, B, 300)
    shown = net.windows("EUR")[0]
    closed = net.close("EUR", actor="staff:ops", window=shown.id)
    assert closed.id == shown.id and str(closed.state) == "closed"
    assert transfer(writer, net, "u2", B, C, 100)  # into the next window, open now
    again = net.close("EUR", actor="staff:ops", window=shown.id)
    assert again == closed
    now = net.windows("EUR")
    assert str(now[0].state) == "open" and now[0].positions == {B: -100, C: 100}
    net.settle(shown.id, actor="staff:ops")
    assert str(net.close("EUR", actor="staff:ops", window=shown.id).state) == "settled"
    for unknown in ("EUR-99", "GBP-1"):
        with pytest.raises(DomainError) as refused:
            net.close("EUR", actor="staff:ops", window=unknown)
        assert refused.value.code == "window_not_found"
    assert str(net.windows("EUR")[0].state) == "open"  # nothing closed by any of these


def test_mojaloop_3482_a_closed_unsettled_window_still_counts_and_settling_it_recomputes(
        net: NetWindows, writer: GroupWriter, database: Database, clock: FakeClock) -> None:
    assert transfer(writer, net, "w1", A, B, 1_000)  # A at -cap in window 1
    w1 = net.close("EUR", actor="staff:ops")
    assert not transfer(writer, net, "w2a", A, C, 1)  # window 2 open: refused
    assert transfer(writer, net, "w2b", B, A, 300)  # A is owed 300 in window 2 ...
    assert not transfer(writer, net, "w2c", A, C, 301)  # ... which nets only in window 2
    net.settle(w1.id, actor="staff:ops")
    assert balance(database, clock, A) == FUNDED - 1_000
    assert transfer(writer, net, "w2d", A, C, 1_000)  # w1 paid: its cap is free again
    assert not transfer(writer, net, "w2e", A, C, 301)  # 1000 - 300 in w2, cap 1000
    sound(database)


def test_a_withdrawal_may_not_leave_a_settlement_balance_below_the_exposure(
        net: NetWindows, writer: GroupWriter) -> None:
    assert transfer(writer, net, "u1", A, B, 800)
    hub(writer, lambda b: net.check_withdrawal(b, A, "EUR", FUNDED - 800))
    with pytest.raises(DomainError) as refused:
        hub(writer, lambda b: net.check_withdrawal(b, A, "EUR", FUNDED - 799))
    assert refused.value.code == "net_exposure_uncovered"


def test_a_settle_cut_short_after_posting_leaves_nothing_and_can_run_again(
        net: NetWindows, writer: GroupWriter, database: Database, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert transfer(writer, net, "u1", A, B, 600)
    closed = net.close("EUR", actor="staff:ops")

    def crash(name: str) -> None:
        raise RuntimeError(f"cut short at {name}")

    monkeypatch.setattr(net._crash, "reached", crash)
    with pytest.raises(RuntimeError):
        net.settle(closed.id, actor="staff:ops")
    assert balance(database, clock, A) == FUNDED
    assert net.windows("EUR")[1].state == "closed"
    monkeypatch.undo()
    assert net.settle(closed.id, actor="staff:ops").obligations == {A: -600, B: 600}
    sound(database)


def test_an_open_window_cannot_be_settled_and_an_unknown_one_is_not_found(
        net: NetWindows) -> None:
    opened = net.close("EUR", actor="staff:ops")
    for wid, code in [("EUR-2", "window_open"), ("EUR-9", "window_not_found"),
                      (opened.id, None)]:
        if code is None:
            assert net.settle(wid, actor="staff:ops").obligations == {}
            continue
        with pytest.raises(DomainError) as refused:
            net.settle(wid, actor="staff:ops")
        assert refused.value.code == code


def test_the_same_uetr_again_answers_as_before_and_with_other_fields_is_refused(
        net: NetWindows, writer: GroupWriter) -> None:
    assert transfer(writer, net, "u1", A, B, 500, commit=False)
    assert hub(writer, lambda b: net.reserve(b, "u1", A, B, 500, "EUR")) is True
    with pytest.raises(DomainError) as refused:
        hub(writer, lambda b: net.reserve(b, "u1", A, B, 501, "EUR"))
    assert refused.value.code == "position_exists_with_different_fields"


def test_the_cli_lists_closes_and_settles_a_window_once(
        net: NetWindows, writer: GroupWriter, database: Database,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("PAYWARDEN_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    assert transfer(writer, net, "u1", A, B, 120)
    run = CliRunner().invoke
    closed = run(app, ["clearing", "window", "close", "EUR"])
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["id"] == "EUR-1"
    listed = json.loads(run(app, ["clearing", "windows", "--currency", "EUR"]).stdout)
    assert [(w["id"], w["state"], w["positions"], w["sum"]) for w in listed] == [
        ("EUR-2", "open", {}, 0), ("EUR-1", "closed", {A: -120, B: 120}, 0)]
    settled = run(app, ["clearing", "window", "settle", "EUR-1"])
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.stdout)["obligations"] == {A: -120, B: 120}
    again = run(app, ["clearing", "window", "settle", "EUR-1"])
    assert again.exit_code == 2 and "window_settled" in again.output
    sound(database)
