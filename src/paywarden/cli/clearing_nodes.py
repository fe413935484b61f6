"""``paywarden clearing …``: a node's identity, its peers and its money at the hub.

    identity                      this node's BIC and clearing public key (JSON)
    participants add|route|list   on a hub: certify a participant (or a peer hub), route
                                  another region's bank via its hub, list them
    participants suspend|reinstate|revoke BIC
    trust                         on a bank (or a hub, for a peer hub): keep the issuing
                                  CA and the peer's certificate, and the node's own one
    fund                          on a hub: submit crediting a participant's reserves (four
                                  eyes: another operator or risk approves)
    liquidity                     a participant moves reserves into (or out of) its
                                  settlement account at its hub, by pacs.009

Every write is audited under the host's actor. Output is JSON (``--json``) or a line
for people. A refusal exits 2 with its code.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..bootstrap import Platform
from ..domain.clearing.messages import BankTransfer, Channel, Header, Pacs002, Pacs009, Status
from ..domain.errors import DomainError
from ..domain.money import Money
from ..services.certification.participants import participant_key
from ..services.clearing.identity import CA_KIND, OWN_KIND, public_key_pem
from ..services.clearing.peers import PeerState, Role
from ..services.clearing.transport import new_msg_id
from .clearing import clearing_app
from .common import err, open_platform, operator_actor, settings_from_env, submit_for_approval

participants_app = typer.Typer(help="A hub's participants and peer hubs.",
                               no_args_is_help=True)
clearing_app.add_typer(participants_app, name="participants")
REFUSED_EXIT = 2
T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@contextmanager
def _node(*, started: bool = True) -> Iterator[Platform]:
    platform = open_platform(settings_from_env())
    if platform.clearing is None:
        platform.database.dispose()
        err.print("[red]this node has no clearing BIC[/red]: set PAYWARDEN_CLEARING_BIC")
        raise typer.Exit(REFUSED_EXIT)
    if started:
        platform.start()
    try:
        yield platform
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(REFUSED_EXIT) from None
    finally:
        if started:
            platform.stop()
        else:  # its HTTP client too: reading a node may ask its hub (reconcile)
            platform.clearing.close()
            platform.database.dispose()


def _print(as_json: bool, data: dict[str, Any], line: Callable[[dict[str, Any]], str]) -> None:
    print(json.dumps(data) if as_json else line(data))


def _ledger(platform: Platform, currency: str) -> None:
    """The hub's ledger for ``currency``, made on first use (as a bank's accounts do)."""
    if platform.queries.ledger_by_currency(currency) is None:
        platform.queries.create_ledger(currency, now_ns=platform.clock.now_ns())


def _hub(platform: Platform) -> Any:
    node = platform.clearing
    if node is None or node.hub is None or node.ca is None:
        raise DomainError("not_a_hub", "this node is not a hub (PAYWARDEN_CLEARING_ROLE=hub)")
    return node


@clearing_app.command("identity")
def identity(as_json: Json = False) -> None:
    """This node's BIC and the public key its messages are signed with."""
    with _node(started=False) as platform:
        platform.keys.ensure()
        data = {"bic": platform.settings.clearing_bic, "role": platform.settings.clearing_role,
                "public_key_pem": public_key_pem(platform.keys)}
    _print(as_json, data, lambda d: f"{d['bic']} ({d['role']})\n{d['public_key_pem']}")


@participants_app.command("add")
def add(bic: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
        url: Annotated[str, typer.Option(help="where its /v1/clearing/messages listens")],
        public_key_file: Annotated[Path, typer.Option(help="its clearing public key, PEM")],
        role: Annotated[str, typer.Option(help="participant (a bank) or hub (a peer hub)")]
        = "participant",
        channel: Annotated[str, typer.Option(help="RTGS or MPNS")] = "RTGS",
        cap: Annotated[int, typer.Option(help="net debit cap, minor units", min=0)] = 0,
        currency: Annotated[str, typer.Option()] = "EUR",
        region: Annotated[str | None, typer.Option()] = None,
        as_json: Json = False) -> None:
    """Certify a participant's (or a peer hub's) key and register it; the same key again
    answers the certificate it was given."""
    if role not in (Role.PARTICIPANT, Role.HUB):
        raise typer.BadParameter("--role is participant or hub")
    key = public_key_file.read_text()
    with _node() as platform:
        node = _hub(platform)
        _ledger(platform, currency)
        peer = node.peers.get(bic)
        if peer is None:
            peer = node.peers.register(
                bic=bic, name=name, role=Role(role), url=url, currency=currency,
                region=region or (bic if role == Role.HUB else platform.settings.clearing_bic),
                public_key_pem=key, channel=Channel(channel), net_debit_cap=cap,
                actor=operator_actor())
        own = platform.settings.clearing_bic or ""
        data = {"bic": peer.bic, "role": str(peer.role), "certificate_pem": peer.certificate_pem,
                "ca_pem": node.ca.ca_pem(), "issuer_bic": own,
                "issuer_certificate_pem": node.ca.issue(
                    bic=own, name=own, public_key_pem=public_key_pem(platform.keys))}
    _print(as_json, data, lambda d: f"{d['bic']} certified as {d['role']}")


@participants_app.command("route")
def route(bic: Annotated[str, typer.Option(help="a bank of another region")],
          via: Annotated[str, typer.Option(help="the hub of its region")],
          currency: Annotated[str, typer.Option()] = "EUR",
          as_json: Json = False) -> None:
    """Route transfers to another region's bank through that region's hub."""
    with _node() as platform:
        node = _hub(platform)
        _ledger(platform, currency)
        peer = node.peers.get(bic)
        if peer is None:
            peer = node.peers.register(bic=bic, name=bic, role=Role.CORRESPONDENT, url=None,
                                       currency=currency, region=via, via=via,
                                       actor=operator_actor())
        data = {"bic": peer.bic, "role": str(peer.role), "via": peer.via}
    _print(as_json, data, lambda d: f"{d['bic']} is reached via {d['via']}")


@participants_app.command("list")
def list_(as_json: Json = False) -> None:
    """Every peer: role, state, channel, cap, route."""
    with _node(started=False) as platform:
        rows = [{"bic": p.bic, "name": p.name, "role": str(p.role), "state": str(p.state),
                 "channel": str(p.channel), "net_debit_cap": p.net_debit_cap,
                 "currency": p.currency, "via": p.via, "url": p.url}
                for p in platform.clearing.peers.list()]  # type: ignore[union-attr]
    _print(as_json, {"peers": rows}, lambda d: "\n".join(
        f"{r['bic']:<12} {r['role']:<13} {r['state']:<10} {r['via'] or r['url'] or ''}"
        for r in d["peers"]))


def _set_state(bic: str, state: PeerState, as_json: bool) -> None:
    with _node() as platform:
        peer = platform.clearing.peers.set_state(  # type: ignore[union-attr]
            bic, state, actor=operator_actor())
    _print(as_json, {"bic": peer.bic, "state": str(peer.state)},
           lambda d: f"{d['bic']} is {d['state']}")


@participants_app.command("suspend")
def suspend(bic: str, as_json: Json = False) -> None:
    """Refuse every message from BIC until it is reinstated."""
    _set_state(bic, PeerState.SUSPENDED, as_json)


@participants_app.command("reinstate")
def reinstate(bic: str, as_json: Json = False) -> None:
    """Take messages from a suspended BIC again."""
    _set_state(bic, PeerState.ACTIVE, as_json)


@participants_app.command("revoke")
def revoke(bic: str, as_json: Json = False) -> None:
    """Refuse every message from BIC, for good."""
    _set_state(bic, PeerState.REVOKED, as_json)


@clearing_app.command("trust")
def trust(bic: Annotated[str, typer.Option(help="the peer: this bank's hub")],
          url: Annotated[str, typer.Option()],
          ca_file: Annotated[Path, typer.Option(help="the CA that certified both of us")],
          certificate_file: Annotated[Path, typer.Option(help="the peer's certificate")],
          own_certificate_file: Annotated[Path | None, typer.Option(
              help="the certificate the peer's CA gave this node")] = None,
          role: Annotated[str, typer.Option()] = "hub",
          currency: Annotated[str, typer.Option()] = "EUR",
          as_json: Json = False) -> None:
    """Trust a hub: keep its CA and its certificate (checked against that CA)."""
    ca, certificate = ca_file.read_text(), certificate_file.read_text()
    with _node() as platform:
        node = platform.clearing
        assert node is not None and node.trust is not None
        participant_key(certificate, [ca], bic, now_ns=platform.clock.now_ns())
        actor = operator_actor()
        node.trust.add(kind=CA_KIND, bic=bic, pem=ca, actor=actor)
        if own_certificate_file is not None:
            own = own_certificate_file.read_text()
            participant_key(own, [ca], platform.settings.clearing_bic or "",
                            now_ns=platform.clock.now_ns())
            node.trust.add(kind=OWN_KIND, bic=platform.settings.clearing_bic or "", pem=own,
                           actor=actor)
        _ledger(platform, currency)
        if node.peers.get(bic) is None:
            node.peers.register(bic=bic, name=bic, role=Role(role), url=url, region=bic,
                                currency=currency, certificate_pem=certificate, actor=actor)
        data = {"bic": bic, "trusted": True}
    _print(as_json, data, lambda d: f"{d['bic']} is trusted")


@clearing_app.command("fund")
def fund(bic: Annotated[str, typer.Option()],
         amount: Annotated[int, typer.Option(min=1, help="minor units")],
         currency: Annotated[str, typer.Option()] = "EUR",
         funding_id: Annotated[str | None, typer.Option(
             help="names this act: the same id again moves nothing")] = None) -> None:
    """Submit crediting a participant's reserves with central-bank money for approval
    (four eyes: another operator, or risk, approves with a passkey); prints its id."""
    params: dict[str, Any] = {"bic": bic, "amount": amount, "currency": currency}
    if funding_id is not None:
        params["funding_id"] = funding_id
    submit_for_approval("operator", "clearing_funding", params)


@clearing_app.command("liquidity")
def liquidity(to: Annotated[str, typer.Option(help="the hub holding the settlement account")],
              amount: Annotated[int, typer.Option(min=1, help="minor units")],
              currency: Annotated[str, typer.Option()] = "EUR",
              out: Annotated[bool, typer.Option(
                  "--out", help="back from settlement to reserves")] = False,
              as_json: Json = False) -> None:
    """Move this participant's reserves into its settlement account (or back), pacs.009."""
    with _node() as platform:
        node = platform.clearing
        assert node is not None
        me = platform.settings.clearing_bic or ""
        uetr = str(uuid.uuid4())
        debtor, creditor = (me, to) if out else (to, me)
        message = Pacs009(Header(new_msg_id(), platform.clock.now_ns(), me, to), (
            BankTransfer(uetr[:35].replace("-", ""), uetr.replace("-", "")[:35], uetr,
                         Money(amount, currency), debtor, creditor),))
        answer = node.transport.send(to, message)
        status = (answer.statuses[0] if isinstance(answer, Pacs002) and answer.statuses
                  else None)
    if status is None or status.status is not Status.ACSC:
        reason = status.reason if status is not None else "no answer"
        err.print(f"[red]refused: {reason} {status.detail if status else ''}[/red]")
        raise typer.Exit(REFUSED_EXIT)
    _print(as_json, {"to": to, "amount": amount, "currency": currency, "uetr": uetr,
                     "status": str(status.status)},
           lambda d: f"{d['amount']} {d['currency']} moved at {d['to']}: {d['status']}")
