"""The pure rules of electronic cheques: fields, claims, lifecycle, presentation (0026)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from paywarden.domain.banking.cheques import (
    DATE_AHEAD_DAYS_MAX,
    PAYS,
    SERIAL_MAX,
    VALIDITY_DAYS_MAX,
    BounceReason,
    Cheque,
    ChequeState,
    approved_fields,
    check_dated,
    claims,
    from_claims,
    judge,
    settle,
    stop,
)
from paywarden.domain.errors import DomainError

TODAY = dt.date(2026, 12, 1)
DRAWER = "DE89370400440532013000"
PAYEE = "DE44500105175407324931"


def cheque(**changes: Any) -> Cheque:
    fields: dict[str, Any] = {
        "id": "chq_" + "a" * 24, "drawer_iban": DRAWER, "payee_iban": PAYEE,
        "payee_name": "Ada Lovelace", "amount_minor": 12_50, "currency": "EUR", "date": TODAY,
        "expires_on": TODAY + dt.timedelta(days=30), "serial": 7,
        "evidence_id": "evd_0123456789abcdef"}
    return Cheque(**(fields | changes))


@pytest.mark.parametrize("change", [
    {"amount_minor": 0}, {"amount_minor": -1}, {"amount_minor": 1.5}, {"amount_minor": True},
    {"currency": "eur"}, {"serial": 0}, {"serial": SERIAL_MAX + 1}, {"payee_name": ""},
    {"payee_name": " Ada"}, {"payee_name": "A" * 71}, {"payee_name": "Ada\u202eecilA"},
    {"payee_name": "Ada\nLovelace"}, {"payee_iban": DRAWER}, {"payee_iban": "not an iban"},
    {"id": "chq_1"}, {"evidence_id": "evd_"},
    {"expires_on": TODAY}, {"expires_on": TODAY + dt.timedelta(days=VALIDITY_DAYS_MAX + 1)},
])
def test_a_cheque_with_a_field_out_of_its_rules_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        cheque(**change)
    assert refused.value.code == "cheque_invalid"


def test_a_cheque_is_dated_from_today_to_the_days_ahead_allowed() -> None:
    check_dated(cheque(), TODAY)
    later = TODAY + dt.timedelta(days=DATE_AHEAD_DAYS_MAX)
    check_dated(cheque(date=later, expires_on=later + dt.timedelta(days=1)), TODAY)
    for date in (TODAY - dt.timedelta(days=1), later + dt.timedelta(days=1)):
        with pytest.raises(DomainError, match="dated from today"):
            check_dated(cheque(date=date, expires_on=date + dt.timedelta(days=1)), TODAY)


def test_claims_read_back_as_the_same_cheque() -> None:
    assert from_claims(claims(cheque())) == cheque()


@pytest.mark.parametrize("change", [
    {"date": "2026-12-1"}, {"date": 20261201}, {"expires_on": "tomorrow"},
    {"amount_minor": "1250"}, {"serial": "7"},
])
def test_claims_of_the_wrong_type_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        from_claims(claims(cheque()) | change)
    assert refused.value.code == "cheque_invalid"


def test_claims_missing_a_field_are_refused() -> None:
    found = claims(cheque())
    del found["serial"]
    with pytest.raises(DomainError, match="has the claims"):
        from_claims(found)


def test_the_step_up_names_every_field_of_the_cheque() -> None:
    fields = approved_fields(cheque())
    assert fields == {"type": "cheque", "amount": 12_50, "currency": "EUR",
                      "payee": f"{PAYEE} Ada Lovelace",
                      "reference": f"cheque 7 on {DRAWER} dated 2026-12-01 until 2026-12-31"}
    assert len(fields["payee"]) <= 128 and len(fields["reference"]) <= 140


@pytest.mark.parametrize("change", [
    {"amount_minor": 12_51}, {"payee_iban": "GB82WEST12345698765432"}, {"payee_name": "Eve"},
    {"date": TODAY + dt.timedelta(days=1)}, {"expires_on": TODAY + dt.timedelta(days=31)},
    {"serial": 8}, {"currency": "USD"}, {"drawer_iban": "GB82WEST12345698765432"},
])
def test_changing_any_field_changes_the_approved_operation(change: dict[str, Any]) -> None:
    assert approved_fields(replace(cheque(), **change)) != approved_fields(cheque())


def test_only_an_issued_cheque_is_stopped() -> None:
    assert stop(ChequeState.ISSUED) is ChequeState.STOPPED
    for state in set(ChequeState) - {ChequeState.ISSUED}:
        with pytest.raises(DomainError) as refused:
            stop(state)
        assert refused.value.code == "cheque_not_stoppable"


def test_only_an_issued_cheque_settles_and_only_into_a_final_state() -> None:
    assert settle(ChequeState.ISSUED, ChequeState.PAID) is ChequeState.PAID
    with pytest.raises(DomainError):
        settle(ChequeState.ISSUED, ChequeState.ISSUED)
    for state in set(ChequeState) - {ChequeState.ISSUED}:
        with pytest.raises(DomainError):
            settle(state, ChequeState.PAID)


def test_a_genuine_cheque_presented_by_its_payee_in_its_dates_is_paid() -> None:
    c = cheque()
    assert judge(c, ChequeState.ISSUED, presenter_is_payee=True, today=TODAY) == PAYS
    assert judge(c, ChequeState.ISSUED, presenter_is_payee=True, today=c.expires_on) == PAYS


def test_someone_other_than_the_payee_is_bounced_and_the_cheque_is_unchanged() -> None:
    found = judge(cheque(), ChequeState.ISSUED, presenter_is_payee=False, today=TODAY)
    assert (found.pay, found.reason, found.state) == (False, BounceReason.NOT_PAYEE, None)


@pytest.mark.parametrize(("state", "reason"), [
    (ChequeState.PAID, BounceReason.DUPLICATE), (ChequeState.BOUNCED, BounceReason.DUPLICATE),
    (ChequeState.STOPPED, BounceReason.STOPPED), (ChequeState.EXPIRED, BounceReason.EXPIRED),
])
def test_a_settled_cheque_bounces_with_its_state_and_stays_so(state: ChequeState,
                                                             reason: BounceReason) -> None:
    found = judge(cheque(), state, presenter_is_payee=True, today=TODAY)
    assert (found.pay, found.reason, found.state) == (False, reason, None)


def test_a_cheque_presented_before_its_date_is_refused_and_stays_good() -> None:
    c = cheque(date=TODAY + dt.timedelta(days=2), expires_on=TODAY + dt.timedelta(days=9))
    with pytest.raises(DomainError) as refused:
        judge(c, ChequeState.ISSUED, presenter_is_payee=True, today=TODAY)
    assert refused.value.code == "cheque_not_yet_due"


def test_a_cheque_presented_after_its_expiry_is_stale_and_expires() -> None:
    c = cheque()
    found = judge(c, ChequeState.ISSUED, presenter_is_payee=True,
                  today=c.expires_on + dt.timedelta(days=1))
    assert (found.pay, found.reason, found.state) == (False, BounceReason.STALE,
                                                      ChequeState.EXPIRED)


def test_the_bounce_reasons_are_stable_strings() -> None:
    assert {r.value for r in BounceReason} == {
        "insufficient_funds", "stopped", "stale", "altered", "duplicate", "not_payee",
        "expired"}
