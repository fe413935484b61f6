"""``paywarden tokens``: staff and supervisor bearer tokens, issued on the server host."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..domain.errors import DomainError
from .common import app, err, open_platform, operator_actor, settings_from_env

tokens_app = typer.Typer(help="Staff and supervisor bearer tokens.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("issue")
def issue(role: Annotated[str, typer.Option(help="a staff role, e.g. supervisor, operator")],
          ttl_s: Annotated[int, typer.Option(
              "--ttl-s", help="lifetime in seconds from issue; no idle expiry")] = 8 * 3600,
          as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
          ) -> None:
    """Issue a bearer token for one staff role (shown once; recorded)."""
    from ..services.identity.tokens import issue_staff_token

    settings = settings_from_env()
    platform = open_platform(settings)
    try:
        new = issue_staff_token(platform.database, platform.sessions, role=role, ttl_s=ttl_s,
                                ttl_s_max=settings.staff_token_ttl_s_max,
                                actor=operator_actor(), now_ns=platform.clock.now_ns())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"token": new.token, "session_id": new.session.id, "role": role,
                          "expires_at_ns": new.session.absolute_expires_at}))
    else:
        err.print(f"{role} token {new.session.id} (shown once; send as "
                  "'Authorization: Bearer …'):")
        print(new.token)


@tokens_app.command("revoke")
def revoke(session_id: Annotated[str, typer.Argument(help="the token's ses_… id")]) -> None:
    """Revoke a token at once (recorded)."""
    from ..services.identity.tokens import revoke_token

    platform = open_platform(settings_from_env())
    try:
        ok = revoke_token(platform.database, platform.sessions, session_id=session_id,
                          actor=operator_actor(), now_ns=platform.clock.now_ns())
    finally:
        platform.database.dispose()
    err.print("revoked" if ok else "[yellow]no live token with that id[/yellow]")
    raise typer.Exit(0 if ok else 1)


@tokens_app.command("service")
def service(name: Annotated[str, typer.Option(help="the service's name: letters, digits, - _")],
            amount_max: Annotated[int, typer.Option(
                "--amount-max", help="the largest transfer it may post, in minor units")],
            ttl_s: Annotated[int, typer.Option("--ttl-s", help="the token's life in seconds, "
                                               "from when it is fetched")] = 8 * 3600,
            as_json: Annotated[bool, typer.Option("--json",
                                                  help="machine-readable output")] = False
            ) -> None:
    """Ask for a service credential (a machine principal's token). It is a four-eyes
    command: another security admin approves it, then `paywarden tokens fetch` shows it
    once. Prints the approval's id."""
    from ..domain.approvals import Kind as ApprovalKind
    from .staff import host_admin

    platform = open_platform(settings_from_env())
    try:
        made = platform.approvals.submit(host_admin(), ApprovalKind.SERVICE_CREDENTIAL,
                                         {"name": name, "ttl_s": ttl_s,
                                          "amount_max": amount_max})
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"approval_id": made.id, "state": str(made.state),
                          "command_hash": made.command_hash, "expires_at_ns": made.expires_at}))
    else:
        err.print(f"service credential for {name} requested: approval {made.id}, waiting for "
                  "another security admin")
        print(made.id)


@tokens_app.command("fetch")
def fetch(approval_id: Annotated[str, typer.Argument(help="the approval's apr_… id")],
          as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
          ) -> None:
    """Fetch an approved service credential, once (only whoever asked for it)."""
    from ..services.staff import redeem
    from .staff import host_admin

    platform = open_platform(settings_from_env())
    try:
        new = redeem(platform.database, platform.sessions, clock=platform.clock,
                     principal=host_admin(), approval_id=approval_id)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"token": new.token, "session_id": new.session.id,
                          "expires_at_ns": new.session.absolute_expires_at}))
    else:
        err.print(f"service token {new.session.id} (shown once; send as "
                  "'Authorization: Bearer …'):")
        print(new.token)
