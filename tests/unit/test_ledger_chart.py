"""The chart of accounts names every account kind once, and what is stored never changes:
kinds keep their strings and codes, accounts keep their ids and user data, parties their
role names."""

from __future__ import annotations

import pytest

from paywarden.domain.escrow import SENDERS, PartyRole, Pay
from paywarden.domain.ledger import AccountFlags
from paywarden.domain.ledger.chart import AccountKind, TransferCode
from paywarden.services.ledger.accounts import AccountRef, new_account, platform_account
from paywarden.services.payments import Party

STORED_CODES = {"escrow": 100, "fee_income": 101, "card_issuer": 102, "bank_clearing": 103,
                "safeguarding": 104, "safeguarding_bank": 105, "interest_expense": 106,
                "merchant": 200, "wallet": 300, "bank": 301, "current": 302, "savings": 303,
                "central_bank": 107, "net_settlement": 108, "clearing_reserve": 400,
                "clearing_settlement": 401}


def test_every_kind_keeps_the_string_and_code_the_database_holds() -> None:
    assert {k.value: k.code for k in AccountKind} == STORED_CODES
    assert int(TransferCode.PAYMENT) == 20
    assert [int(c) for c in TransferCode][1:8] == list(range(30, 37))  # the bank's, issue 11
    assert [int(c) for c in TransferCode][8:] == list(range(40, 44))  # clearing, issue 14


def test_only_accounts_where_money_enters_from_outside_may_go_negative() -> None:
    negative = {k for k in AccountKind if k.flags == 0}
    assert negative == {AccountKind.CARD_ISSUER, AccountKind.BANK_CLEARING,
                        AccountKind.SAFEGUARDING_BANK, AccountKind.INTEREST_EXPENSE,
                        AccountKind.CENTRAL_BANK}
    assert AccountKind.WALLET.flags == int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)


@pytest.mark.parametrize(("kind", "owner", "account_id", "code", "flags"), [
    (AccountKind.ESCROW, "platform", 4551502303080555612, 100, 1),
    (AccountKind.CARD_ISSUER, "platform", 2322221975854386915, 102, 0),
    (AccountKind.WALLET, "usr_0123456789abcdef", 2561933271834370541, 300, 1),
    (AccountKind.MERCHANT, "mer_0123456789abcdef", 1766307527262696306, 200, 1),
])
def test_an_account_keeps_the_id_and_user_data_it_was_created_with(
        kind: AccountKind, owner: str, account_id: int, code: int, flags: int) -> None:
    made = new_account(AccountRef(kind, owner, "EUR"))
    assert (made.id, made.ledger, made.code, made.flags) == (account_id, 978, code, flags)
    assert made.user_data == f"{kind.value}:{owner}"


def test_a_stored_funding_name_reads_back_as_the_same_account() -> None:
    wallet = AccountRef(AccountKind.WALLET, "usr_0123456789abcdef", "EUR")
    assert AccountRef.from_name(wallet.name, "EUR") == wallet
    assert platform_account(AccountKind.ESCROW, "EUR").owner == "platform"


def test_a_kind_or_role_outside_the_chart_is_refused() -> None:
    with pytest.raises(ValueError):
        AccountRef("loan", "usr_0123456789abcdef", "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Party("auditor", "usr_0123456789abcdef")  # type: ignore[arg-type]


def test_a_party_named_by_its_stored_role_string_is_the_enum_member() -> None:
    assert Party("buyer", "usr_1").role is PartyRole.BUYER  # type: ignore[arg-type]
    assert SENDERS[Pay] == frozenset({PartyRole.BUYER})
