"""Unsent notifications are emailed through a real (local, aiosmtpd) SMTP server and marked sent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.notify.smtp import SmtpSettings
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import notifications
from paywarden.domain.identity import Kind
from paywarden.services.identity.notices import notify
from paywarden.services.identity.notifications import deliver_unsent
from paywarden.services.identity.users import create_user

from ..support.sealing import field_keys


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_unsent_notifications_are_sent_once_and_marked(database: Database, clock: FakeClock,
                                                       smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    keys = field_keys(database, clock)
    with database.engine.begin() as conn:
        with_mail = create_user(conn, keys=keys, kind=Kind.CUSTOMER, username="alice", display_name="A",
                                roles=frozenset({"customer"}), now_ns=clock.now_ns(),
                                email="alice@example.org")
        without = create_user(conn, keys=keys, kind=Kind.CUSTOMER, username="bob", display_name="B",
                              roles=frozenset({"customer"}), now_ns=clock.now_ns())
        notify(conn, with_mail.id, "locked", keys=keys, subject="Your account is locked", body="Locked.",
               now_ns=clock.now_ns())
        notify(conn, without.id, "locked", keys=keys, subject="Your account is locked", body="Locked.",
               now_ns=clock.now_ns())
    settings = SmtpSettings(host="127.0.0.1", port=port, sender="PayWarden <pw@localhost>",
                            starttls=False)
    assert deliver_unsent(database, None, clock=clock, keys=keys) == 0  # SMTP off: nothing
    assert deliver_unsent(database, settings, clock=clock, keys=keys) == 1
    assert deliver_unsent(database, settings, clock=clock, keys=keys) == 0  # never twice
    assert [m.rcpt_tos for m in inbox.messages] == [["alice@example.org"]]
    assert b"Subject: PayWarden: Your account is locked" in inbox.messages[0].original_content
    with database.engine.connect() as conn:
        sent = dict(conn.execute(select(notifications.c.user_id, notifications.c.sent_at)).all())
    assert sent[with_mail.id] == clock.now_ns() and sent[without.id] is None
