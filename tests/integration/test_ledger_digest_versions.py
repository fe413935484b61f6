"""``audit verify`` checks a batch by the digest version its entry names, old ones included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from paywarden.domain.ledger import Book, Transfer
from paywarden.domain.ledger.digests import TRANSFER_FACTS, rows_digest
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger import LedgerEngine, NewAccount, batch_events

EUR = 978


def version_1_event(*, at_ns: int, version: int, first: int, last: int, book: Book,
                    actor: str = "system") -> Any:
    """A batch's entry as written before issue 9: JSON digest, no ``digest_v``."""
    after = {"transfers": len(book.rows),
             "digest": rows_digest([r[: len(TRANSFER_FACTS)] for r in book.rows])}
    return batch_events.ledger_event("ledger.batch", f"ledger:{version + 1}", at_ns=at_ns,
                                     version=version, first=first, last=last, actor=actor,
                                     after=after)


def batch_details(engine: LedgerEngine) -> list[dict[str, Any]]:
    with engine._database.engine.connect() as c:
        rows = c.execute(text(
            "SELECT detail FROM audit_entries WHERE action = 'ledger.batch' ORDER BY seq")).all()
    return [json.loads(r.detail) for r in rows]


def test_entries_of_both_versions_verify_and_both_catch_a_change(
        engine: LedgerEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.create_accounts([NewAccount(1, EUR, 1), NewAccount(2, EUR, 1)]).result()
    with monkeypatch.context() as m:
        from paywarden.services.ledger import engine as engine_module

        m.setattr(engine_module, "batch_event", version_1_event)
        engine.execute([Transfer("old", 1, 2, 100, EUR, 1, user_data="before")])
    engine.execute([Transfer("new", 1, 2, 200, EUR, 1, user_data="after")])
    details = batch_details(engine)
    assert [d.get("digest_v") for d in details] == [None, 2]
    assert verify_audit(engine._database) == []
    for transfer_id in ("old", "new"):
        with engine._database.engine.begin() as c:
            c.execute(text("UPDATE transfers SET user_data = 'forged' WHERE id = :id"),
                      {"id": transfer_id})
        codes = [p.code for p in verify_audit(engine._database)]
        assert codes == ["ledger_batch_digest_mismatch"], transfer_id
        with engine._database.engine.begin() as c:
            c.execute(text("UPDATE transfers SET user_data = :u WHERE id = :id"),
                      {"id": transfer_id, "u": "before" if transfer_id == "old" else "after"})
    assert verify_audit(engine._database) == []
