"""``paywarden merchants``: create merchants and manage their keys, on the server host.

Every command is recorded in the audit log as ``cli:<login>``, like any staff action.
``activate`` and ``keys add`` are four-eyes commands (decision 0044): they submit an
approval as the host actor and print its id; another member of staff approves it with
their passkey. ``create`` stays one person's act (the decision record says why).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ..domain.errors import DomainError
from .common import app, err, open_platform, operator_actor, settings_from_env, submit_for_approval

merchants_app = typer.Typer(help="Merchants and their Ed25519 public keys.",
                            no_args_is_help=True)
keys_app = typer.Typer(help="A merchant's public keys: add (rotate) and revoke.",
                       no_args_is_help=True)
merchants_app.add_typer(keys_app, name="keys")
app.add_typer(merchants_app, name="merchants")

T = TypeVar("T")
PublicKeyFile = Annotated[Path, typer.Option("--public-key", exists=True, dir_okay=False,
                                             readable=True,
                                             help="PEM file of an Ed25519 public key")]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]
PEM_BYTES_MAX = 4_096


def _run(action: Callable[..., T]) -> T:
    """Run ``action(platform)``; a refusal prints its reason and exits 2."""
    platform = open_platform(settings_from_env())
    try:
        return action(platform)
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()


def _read_pem(path: Path) -> bytes:
    data = path.read_bytes()[:PEM_BYTES_MAX + 1]
    from ..services.merchants import public_key_from_pem

    try:
        return public_key_from_pem(data)
    except DomainError as exc:
        err.print(f"[red]{path}: {exc.detail}[/red]")
        raise typer.Exit(2) from None


@merchants_app.command("create")
def create(name: Annotated[str, typer.Option(help="the merchant's name")],
           public_key: PublicKeyFile,
           label: Annotated[str, typer.Option(help="a label for the key")] = "",
           as_json: AsJson = False) -> None:
    """Create a merchant with its first public key (recorded)."""
    raw = _read_pem(public_key)
    new = _run(lambda p: p.merchants.create(name=name, public_key=raw, key_label=label,
                                            actor=operator_actor()))
    if as_json:
        print(json.dumps({"merchant_id": new.merchant.id, "key_id": new.key_id}))
    else:
        err.print(f"merchant {new.merchant.id} ({new.merchant.name}) with key:")
        print(new.key_id)


@merchants_app.command("suspend")
def suspend(merchant_id: Annotated[str, typer.Argument(help="mer_…")]) -> None:
    """Suspend a merchant: its signed requests are refused until it is activated."""
    _run(lambda p: p.merchants.set_status(merchant_id, "suspended", actor=operator_actor()))
    err.print(f"{merchant_id} suspended")


@merchants_app.command("activate")
def activate(merchant_id: Annotated[str, typer.Argument(help="mer_…")]) -> None:
    """Submit a suspended merchant's reactivation for approval; prints the approval id."""
    submit_for_approval("merchant_admin", "merchant_reinstatement",
                        {"merchant_id": merchant_id, "what": "status"})


@merchants_app.command("show")
def show(merchant_id: Annotated[str, typer.Argument(help="mer_…")]) -> None:
    """Print a merchant and its keys as JSON."""
    merchant = _run(lambda p: p.merchants.get(merchant_id))
    if merchant is None:
        err.print(f"[red]no merchant {merchant_id}[/red]")
        raise typer.Exit(1)
    print(json.dumps({"id": merchant.id, "name": merchant.name, "status": merchant.status,
                      "keys": [{"id": k.id, "label": k.label, "active": k.active}
                               for k in merchant.keys]}))


@keys_app.command("add")
def add_key(merchant_id: Annotated[str, typer.Argument(help="mer_…")],
            public_key: PublicKeyFile,
            label: Annotated[str, typer.Option(help="a label for the key")] = "") -> None:
    """Submit another public key for a merchant for approval; prints the approval id."""
    from ..services.approvals.merchants import b64url

    raw = _read_pem(public_key)
    submit_for_approval("merchant_admin", "merchant_key",
                        {"merchant_id": merchant_id, "public_key": b64url(raw),
                         "label": label})


@keys_app.command("revoke")
def revoke_key(merchant_id: Annotated[str, typer.Argument(help="mer_…")],
               key_id: Annotated[str, typer.Argument(help="key_…")]) -> None:
    """Revoke a key at once, even the merchant's last (recorded)."""
    _run(lambda p: p.merchants.revoke_key(merchant_id, key_id, actor=operator_actor()))
    err.print(f"{key_id} revoked")


users_app = typer.Typer(help="A merchant's people: invite them to join with a passkey.",
                        no_args_is_help=True)
merchants_app.add_typer(users_app, name="users")


@users_app.command("invite")
def invite_user(merchant_id: Annotated[str, typer.Argument(help="mer_…")],
                email: Annotated[str, typer.Option("--email", help="the invitee's e-mail")],
                role: Annotated[str, typer.Option(
                    "--role", help="owner, developer or support")] = "owner",
                as_json: AsJson = False) -> None:
    """Invite a merchant's first person (its first owner): prints a one-time link, shown
    once, good for a day, with which they choose a username and add a passkey. Refused
    once the merchant has an active owner: its owners invite the others."""
    settings = settings_from_env()
    made = _run(lambda p: p.merchant_users.invite(merchant_id, email=email, role=role,
                                                  actor=operator_actor(), first_owner=True))
    link = f"{settings.public_url}/merchant/join#{made.token}"  # the fragment stays off servers
    if as_json:
        print(json.dumps({"invitation_id": made.id, "merchant_id": made.merchant_id,
                          "role": made.role, "url": link, "expires_at_ns": made.expires_at}))
    else:
        err.print(f"invitation {made.id} to {merchant_id} as {made.role}; one-time link "
                  "(shown once, good for a day):")
        print(link)
