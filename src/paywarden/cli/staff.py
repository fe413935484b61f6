"""``paywarden staff``: staff users, created on the server host with an enrolment token."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..domain.errors import DomainError
from .common import app, err, open_platform, operator_actor, settings_from_env

staff_app = typer.Typer(help="Staff users.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")


@staff_app.command("create")
def create(username: Annotated[str, typer.Option(help="the staff member's username")],
           role: Annotated[str, typer.Option(help="one staff role, e.g. support, operator")],
           display_name: Annotated[str, typer.Option("--display-name",
                                                     help="default: the username")] = "",
           ttl_s: Annotated[int, typer.Option("--ttl-s", help="the enrolment token's life, "
                                              "in seconds (at most a day)")] = 24 * 3600,
           as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Create a staff user; prints an enrolment token (shown once) to add a passkey or
    password + TOTP with. The staff user can sign in only once those are set up."""
    from ..services.identity.enrolment import create_staff

    settings = settings_from_env()
    platform = open_platform(settings)
    try:
        enrolled = create_staff(platform.credentials, username=username, role=role,
                                display_name=display_name, actor=operator_actor(),
                                ttl_s=ttl_s, ttl_s_max=settings.staff_token_ttl_s_max)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    token = enrolled.enrolment.token
    if as_json:
        print(json.dumps({"user_id": enrolled.user.id, "username": enrolled.user.username,
                          "role": role, "enrolment_token": token,
                          "expires_at_ns": enrolled.enrolment.session.absolute_expires_at}))
    else:
        err.print(f"staff user {enrolled.user.id} ({enrolled.user.username}, {role}) created. "
                  "Enrolment token (shown once; send as 'Authorization: Bearer …' to "
                  "/v1/auth/passkeys/register/… or /v1/me/password and /v1/me/totp):")
        print(token)


notifications_app = typer.Typer(help="Notifications to users.", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")


@notifications_app.command("send")
def send(batches_max: Annotated[int, typer.Option("--batches-max", min=1, max=1000)] = 10
         ) -> None:
    """Email unsent notifications (when PAYWARDEN_SMTP_HOST is set); marks each one sent."""
    from ..adapters.notify.smtp import SmtpSettings
    from ..services.identity.notifications import deliver_unsent

    settings = settings_from_env()
    if settings.smtp_host is None:
        err.print("[yellow]PAYWARDEN_SMTP_HOST is not set: nothing is sent[/yellow]")
        raise typer.Exit(0)
    smtp = SmtpSettings(host=settings.smtp_host, port=settings.smtp_port,
                        sender=settings.smtp_from, starttls=settings.smtp_starttls)
    platform = open_platform(settings)
    total = 0
    try:
        for _ in range(batches_max):
            sent = deliver_unsent(platform.database, smtp, clock=platform.clock,
                                  keys=platform.keys)
            total += sent
            if sent == 0:
                break
    finally:
        platform.database.dispose()
    err.print(f"sent {total} notifications")
