"""The audit entry each ledger write appends: its range of timestamps and digests of what
it stored, so ``paywarden audit verify`` can check the rows against it."""

from __future__ import annotations

from typing import Any

from ...domain.audit.leaves import Event, state_digest
from ...domain.ledger import Book
from ...domain.ledger.digests import TRANSFERS_DIGEST_VERSION, rows_digest, transfers_digest
from .. import audit


def ledger_event(action: str, object_id: str, *, at_ns: int, version: int, first: int,
                 last: int, after: dict[str, Any], actor: str = audit.SYSTEM) -> Event:
    detail = {"version": version + 1, "first": first, "last": last, **after}
    return Event(at_ns=at_ns, actor=actor, action=action, object_id=object_id, detail=detail,
                 before=state_digest({"version": version}), after=state_digest(detail))


def batch_event(*, at_ns: int, version: int, first: int, last: int, book: Book,
                actor: str = audit.SYSTEM) -> Event:
    """The batch's transfers, and the failures it recorded (only when it recorded some)."""
    after: dict[str, Any] = {"transfers": len(book.rows), "digest": transfers_digest(book.rows),
                             "digest_v": TRANSFERS_DIGEST_VERSION}
    if book.failed_rows:
        after["failed"] = len(book.failed_rows)
        after["failed_digest"] = rows_digest(book.failed_rows)
    return ledger_event("ledger.batch", f"ledger:{version + 1}", at_ns=at_ns, version=version,
                        first=first, last=last, actor=actor, after=after)
