"""Fixtures of the participant bank's tests: the test platform's bank (BANK, IBANs of
bank code PAYW) with its clearing link, incoming handlers and returns, in front of an
in-process hub (tests/support/clearing_fakes.py). Import the fixtures a module uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_transfers
from paywarden.domain.clearing.messages import Camt029, Channel, Message, RecallAnswer
from paywarden.services.clearing.bank import ClearingLink, Directory, Incoming
from paywarden.services.clearing.bank.recalls import Recalls
from paywarden.services.clearing.bank.returns import Returns
from paywarden.services.clearing.recall_cases import Cases
from paywarden.services.clearing.transport import PeerUnavailable
from paywarden.services.ledger.verify import verify_ledger

from .clearing_fakes import BANK, HUB, FakeHub
from .platform import platform_of
from .transfers import (
    COOLING_S,
    ELSEWHERE,
    Customer,
    add_payee,
    customer,
    send,
    transfer_api,
    wait,
)

DEADLINE_S = 30


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path)


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def link(api: TestClient, hub: FakeHub) -> ClearingLink:
    return clearing_link(api, hub)


@pytest.fixture
def incoming(api: TestClient, link: ClearingLink) -> Incoming:
    p = platform_of(api)
    return Incoming(p.database, clock=p.clock, movements=p.banking.movements, outgoing=link,
                    bic=BANK, hub_bic=HUB)


@pytest.fixture
def returns(api: TestClient, link: ClearingLink) -> Returns:
    p = platform_of(api)
    return Returns(p.database, clock=p.clock, movements=p.banking.movements, link=link,
                   bic=BANK, hub_bic=HUB, deadline_s=DEADLINE_S)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=1_000_00)


@dataclass
class RecallHub:
    """The bank's transport as far as recall cases go: what it sent the hub, or down."""

    bic: str = BANK
    sent: list[Message] = field(default_factory=list)
    down: bool = False

    def send(self, receiver: str, message: Message) -> Message | None:
        if self.down:
            raise PeerUnavailable(receiver, "connection refused")
        assert receiver == HUB
        self.sent.append(message)
        return None

    def answers(self) -> list[RecallAnswer]:
        return [a for msg in self.sent if isinstance(msg, Camt029) for a in msg.answers]


@pytest.fixture
def wire() -> RecallHub:
    return RecallHub()


@pytest.fixture
def recalls(api: TestClient, returns: Returns, wire: RecallHub) -> Recalls:
    p = platform_of(api)
    cases = Cases(p.database, clock=p.clock, transport=wire)
    return Recalls(p.database, clock=p.clock, cases=cases, returns=returns, hub_bic=HUB)


def clearing_link(api: TestClient, hub: FakeHub, batch_max: int = 100) -> ClearingLink:
    """A fresh link, as after a restart: it knows only what the database holds."""
    p = platform_of(api)
    return ClearingLink(p.database, clock=p.clock, movements=p.banking.movements, hub=hub,
                        hub_bic=HUB, bic=BANK, directory=Directory({}), channel=Channel.RTGS,
                        deadline_s=DEADLINE_S, batch_max=batch_max)


def movement(api: TestClient, movement_id: str) -> Any:
    with platform_of(api).database.engine.connect() as conn:
        return conn.execute(select(bank_transfers).where(
            bank_transfers.c.id == movement_id)).mappings().one()


def verified(api: TestClient) -> bool:
    return verify_ledger(platform_of(api).database) == []


def pay_elsewhere(api: TestClient, who: Customer, *amounts: int,
                  iban: str = ELSEWHERE) -> list[str]:
    """Transfers from ``who`` to an account at another bank; their movement ids."""
    payee = add_payee(api, who, "Ada at her old bank", iban)
    wait(api, COOLING_S)
    ids = []
    for amount in amounts:
        r = send(api, who, payee, amount, "moving my savings")
        assert r.status_code == 201 and r.json()["state"] == "pending", r.text
        ids.append(r.json()["id"])
    return ids
