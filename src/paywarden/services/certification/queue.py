"""The staff's certification queue: applications by status, each with its latest certificate.

What a merchant_admin decides on: an application waiting (``submitted``) with its domains
and whether each is verified; an approved one with its certificate's state (active,
suspended, revoked) for suspending, reinstating or revoking; a rejected one with its code.
Waiting applications are listed oldest first (first come, first decided), the others most
recently decided first. The business details are opened here because staff decide on them;
the page and API that show them are for the ``certification`` resource's readers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from ...adapters.store.schema import merchant_applications
from ..sealed import FieldKeys
from . import applications
from .applications import SUBMITTED, Application
from .certificates import Certificate, latest

QUEUE_SIZE_MAX = 100  # applications one queue tab lists
STATUSES = (applications.SUBMITTED, applications.APPROVED, applications.REJECTED)


@dataclass(frozen=True)
class Queued:
    application: Application
    certificate: Certificate | None  # the live one, else the latest issued, else none


def queue(conn: Connection, keys: FieldKeys, *, status: str, limit: int) -> list[Queued]:
    """Up to ``limit`` (≤ QUEUE_SIZE_MAX) applications in ``status``."""
    t = merchant_applications
    order = (t.c.submitted_at, t.c.merchant_id) if status == SUBMITTED else (
        t.c.decided_at.desc(), t.c.merchant_id)
    ids = conn.execute(select(t.c.merchant_id).where(t.c.status == status).order_by(*order)
                       .limit(min(limit, QUEUE_SIZE_MAX))).scalars().all()
    found = []
    for merchant_id in ids:
        application = applications.load(conn, keys, merchant_id)
        if application is not None:
            found.append(Queued(application, latest(conn, merchant_id)))
    return found
