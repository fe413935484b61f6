"""What an operator reads of a clearing node: a hub's positions, a bank's payments, and
every message it exchanged (``paywarden clearing positions | payments | export``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from ...adapters.store import Database
from ...adapters.store.schema import (
    accounts,
    bank_clearing_in,
    bank_clearing_out,
    bank_transfers,
    clearing_messages,
    clearing_recalls,
    hub_transfers,
    net_totals,
    net_windows,
)
from ...domain.clearing.messages import MessageType
from .notices import Notices
from .peers import Peers, Role, settlement_account


def positions(database: Database, peers: Peers) -> dict[str, Any]:
    """Per participant and peer hub: its settlement balance, what is reserved against
    it, its net position over the unsettled windows and its cap; and the windows."""
    with database.engine.connect() as conn:
        unsettled = select(net_windows.c.id).where(net_windows.c.state != "settled")
        net = dict(conn.execute(select(
            net_totals.c.participant, func.sum(net_totals.c.credits - net_totals.c.debits))
            .where(net_totals.c.window_id.in_(unsettled))
            .group_by(net_totals.c.participant)).all())
        windows = [dict(r) for r in conn.execute(select(
            net_windows.c.id, net_windows.c.currency, net_windows.c.state,
            net_windows.c.opened_ns,
            net_windows.c.closed_ns, net_windows.c.settled_ns)
            .order_by(net_windows.c.opened_ns.desc()).limit(20)).mappings()]
        states: dict[str, int] = dict(conn.execute(select(hub_transfers.c.state, func.count())
                                   .group_by(hub_transfers.c.state)).all())
        rows = []
        for peer in peers.list():
            if peer.role is Role.CORRESPONDENT:
                continue
            ref = settlement_account(peer.bic, peer.currency)
            found = conn.execute(select(
                accounts.c.credits_posted - accounts.c.debits_posted,
                accounts.c.debits_pending).where(accounts.c.id == ref.id)).first()
            rows.append({"bic": peer.bic, "role": str(peer.role), "state": str(peer.state),
                         "currency": peer.currency, "channel": str(peer.channel),
                         "settlement": int(found[0]) if found else 0,
                         "reserved": int(found[1]) if found else 0,
                         "net_position": int(net.get(peer.bic) or 0),
                         "cap": peer.net_debit_cap})
    return {"participants": rows, "windows": windows, "transfers": states,
            "net_positions_sum": sum(int(v or 0) for v in net.values())}


def hub(database: Database, peers: Peers, notices: Notices | None) -> dict[str, Any]:
    """The hub's back-office view: :func:`positions`, and the booking notifications
    (camt.054) still owed to participants."""
    return {**positions(database, peers),
            "notices_owed": notices.pending() if notices is not None else 0}


def payments(database: Database) -> dict[str, Any]:
    """A bank's transfers through the network, out and in, with their times (ns); a
    return names the transfer it returns (``original_uetr``)."""
    with database.engine.connect() as conn:
        out = [dict(r) for r in conn.execute(select(
            bank_clearing_out.c.movement_id, bank_clearing_out.c.uetr,
            bank_clearing_out.c.state, bank_clearing_out.c.reason,
            bank_clearing_out.c.original_uetr, bank_transfers.c.amount,
            bank_transfers.c.currency, bank_transfers.c.state.label("movement_state"),
            bank_transfers.c.created_at, bank_transfers.c.updated_at).join(
            bank_transfers, bank_transfers.c.id == bank_clearing_out.c.movement_id))
            .mappings()]
        into = [dict(r) for r in conn.execute(select(
            bank_clearing_in.c.uetr, bank_clearing_in.c.movement_id, bank_clearing_in.c.state,
            bank_clearing_in.c.reason, bank_clearing_in.c.original_uetr,
            bank_transfers.c.amount, bank_transfers.c.state.label("movement_state")).select_from(
            bank_clearing_in.outerjoin(
                bank_transfers, bank_transfers.c.id == bank_clearing_in.c.movement_id)))
            .mappings()]
        pending_out = conn.execute(select(func.count()).select_from(bank_transfers).where(
            bank_transfers.c.kind.in_(("external", "withdrawal")),
            bank_transfers.c.state == "pending")).scalar_one()
    return {"out": out, "in": into, "pending_out": int(pending_out)}


INCOMING_LIMIT = 100


def incoming(database: Database, *, limit: int = INCOMING_LIMIT) -> list[dict[str, Any]]:
    """A bank's transfers from other banks (not returns to it), newest first, each with
    its return when one was made (the live or done one, else the last rejected)."""
    t, into, out = bank_transfers, bank_clearing_in, bank_clearing_out
    with database.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(
            into.c.uetr, into.c.state, into.c.reason, into.c.end_to_end_id, t.c.amount,
            t.c.currency, t.c.to_account, t.c.counterparty_name, t.c.counterparty_iban,
            t.c.reference, t.c.created_at)
            .join(t, t.c.id == into.c.movement_id)
            .where(into.c.original_uetr.is_(None))
            .order_by(t.c.created_at.desc(), into.c.uetr).limit(limit)).mappings()]
        returns: dict[str, dict[str, Any]] = {}
        for r in conn.execute(select(
                out.c.original_uetr, out.c.uetr, out.c.state, out.c.reason, t.c.amount,
                t.c.reference, out.c.created_at)
                .join(t, t.c.id == out.c.movement_id)
                .where(out.c.original_uetr.in_([row["uetr"] for row in rows]))
                .order_by(out.c.created_at)).mappings():
            kept = returns.get(r["original_uetr"])
            if kept is None or kept["state"] == "rejected":  # a live one outranks a rejected
                returns[r["original_uetr"]] = dict(r)
        recalls = _recalls(conn, "received", [row["uetr"] for row in rows])
    for row in rows:
        row["returned"] = returns.get(row["uetr"])
        row["recall"] = recalls.get(row["uetr"])
    return rows


def outgoing(database: Database, *, limit: int = INCOMING_LIMIT) -> list[dict[str, Any]]:
    """A bank's transfers to other banks (not its returns), newest first, each with its
    latest recall (camt.056) when one was asked."""
    t, out = bank_transfers, bank_clearing_out
    with database.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(
            out.c.uetr, out.c.state, out.c.reason, out.c.end_to_end_id, t.c.id, t.c.amount,
            t.c.currency, t.c.from_account, t.c.counterparty_name, t.c.counterparty_iban,
            t.c.reference, t.c.created_at)
            .join(t, t.c.id == out.c.movement_id)
            .where(out.c.original_uetr.is_(None))
            .order_by(t.c.created_at.desc(), out.c.uetr).limit(limit)).mappings()]
        recalls = _recalls(conn, "requested", [row["uetr"] for row in rows])
    for row in rows:
        row["recall"] = recalls.get(row["uetr"])
    return rows


def _recalls(conn: Connection, role: str, uetrs: list[str]) -> dict[str, dict[str, Any]]:
    """The latest recall case of each transfer (``role``: requested or received)."""
    latest: dict[str, dict[str, Any]] = {}
    for r in conn.execute(select(clearing_recalls).where(
            clearing_recalls.c.role == role, clearing_recalls.c.original_uetr.in_(uetrs))
            .order_by(clearing_recalls.c.created_at)).mappings():
        latest[r["original_uetr"]] = {
            "case_id": r["case_id"], "state": r["state"], "reason": r["reason"],
            "amount": r["amount"], "answer_reason": r["answer_reason"],
            "undelivered": r["owed"] is not None, "created_at": r["created_at"]}
    return latest


def export(database: Database, directory: Path) -> int:
    """Every message sent and received, one file each:
    ``<direction>-<msgtype>-<msgid>.xml`` (the exact bytes that were signed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    with database.engine.connect() as conn:
        rows = conn.execution_options(yield_per=500).execute(select(
            clearing_messages.c.direction, clearing_messages.c.type,
            clearing_messages.c.msg_id, clearing_messages.c.sender, clearing_messages.c.body)
            .order_by(clearing_messages.c.at_ns))
        for direction, type_, msg_id, sender, body in rows:
            family = MessageType(type_).family
            name = f"{direction}-{family}-{msg_id}.xml"
            if direction == "in" and (directory / name).exists():
                name = f"{direction}-{family}-{sender}-{msg_id}.xml"  # two senders, one id
            (directory / name).write_bytes(body)
            written += 1
    return written
