"""The audit log for auditors: the signed tree head, entries and RFC 9162 proofs.

Read-only, for the supervisor role (policy resource ``audit``). Hashes are
base64; proofs list their hashes in RFC 9162 order, so any CT verifier checks
them against a signed head.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ..adapters.store import audit_log
from ..bootstrap import Platform
from ..domain.identity import Access, Resource
from . import problem_codes as codes
from .auth import require
from .deps import current_platform
from .problems import Problem

router = APIRouter(prefix="/v1/audit", tags=["audit"],
                   dependencies=[Depends(require(Resource.AUDIT, Access.READ))])

Index = Annotated[int, Query(ge=0, le=2**62)]


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in items]


def _size(platform: Platform) -> int:
    with platform.database.engine.connect() as conn:
        return audit_log.size(audit_log.driver(conn))


def _bad_range(message: str) -> Problem:
    return Problem(codes.Records.AUDIT_RANGE_INVALID, message)


@router.get("/sth")
async def signed_tree_head(request: Request) -> dict[str, Any]:
    """Latest signed tree head of the audit log.

    The latest signed tree head (signed now if the tree grew since the last one)."""
    head = await asyncio.to_thread(current_platform(request).tree_heads.sign_now)
    return head.as_json()


@router.get("/entries")
async def entries(request: Request, start: Index, end: Index) -> dict[str, Any]:
    """Audit log entries by index.

    Entries ``start``…``end`` inclusive (RFC 6962 get-entries), at most 1,000 a call."""
    platform = current_platform(request)

    def read() -> list[tuple[int, bytes]]:
        size = _size(platform)
        if start > end or start >= size:
            raise _bad_range(f"need start <= end and start < the tree size ({size})")
        with platform.database.engine.connect() as conn:
            return audit_log.entries(audit_log.driver(conn), start, min(end, size - 1))

    found = await asyncio.to_thread(read)
    return {"data": [{"index": i, "leaf": base64.b64encode(leaf).decode()} for i, leaf in found]}


@router.get("/proofs/inclusion")
async def inclusion(request: Request, index: Index, tree_size: Index) -> dict[str, Any]:
    """Proof that an entry is in the audit log.

    An RFC 9162 inclusion proof of the leaf with this hash in the tree of the given size; check it
    against a signed tree head.
    """
    platform = current_platform(request)

    def prove() -> list[bytes]:
        size = _size(platform)
        if not index < tree_size <= size:
            raise _bad_range(f"need index < tree_size <= the tree size ({size})")
        with platform.database.engine.connect() as conn:
            return audit_log.inclusion(audit_log.driver(conn), index, tree_size)

    return {"index": index, "tree_size": tree_size,
            "hashes": _b64(await asyncio.to_thread(prove))}


@router.get("/proofs/consistency")
async def consistency(request: Request, first: Index, second: Index) -> dict[str, Any]:
    """Proof that the audit log only grew.

    An RFC 9162 consistency proof between two tree sizes: the later tree extends the earlier one,
    nothing was rewritten.
    """
    platform = current_platform(request)

    def prove() -> list[bytes]:
        size = _size(platform)
        if not 0 < first <= second <= size:
            raise _bad_range(f"need 0 < first <= second <= the tree size ({size})")
        with platform.database.engine.connect() as conn:
            return audit_log.consistency(audit_log.driver(conn), first, second)

    return {"first": first, "second": second, "hashes": _b64(await asyncio.to_thread(prove))}
