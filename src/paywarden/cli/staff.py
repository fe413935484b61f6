"""``paywarden staff``: joiners (an enrolment token and a pending role grant), leavers
(deactivate) and the access review, run on the server host (decision 0043)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from ..domain.errors import DomainError
from ..domain.identity import Kind, Principal
from .common import app, err, open_platform, operator_actor, settings_from_env

out = Console()

staff_app = typer.Typer(help="Staff users.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")


def host_admin() -> Principal:
    """Whoever runs a command on the server host, as a submitter of staff commands: a
    shell there can already issue a security_admin token, so this grants nothing new,
    and it never has a passkey, so it can never approve (decision 0043)."""
    return Principal(kind=Kind.STAFF, id=operator_actor(), roles=frozenset({"security_admin"}))


@staff_app.command("create")
def create(username: Annotated[str, typer.Option(help="the staff member's username")],
           role: Annotated[str, typer.Option(help="one staff role, e.g. support, operator")],
           display_name: Annotated[str, typer.Option("--display-name",
                                                     help="default: the username")] = "",
           ttl_s: Annotated[int, typer.Option("--ttl-s", help="the enrolment token's life, "
                                              "in seconds (at most a day)")] = 24 * 3600,
           as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Create a staff user with no role and submit the grant of ROLE for another security
    admin to approve; prints an enrolment token (shown once) to add a passkey with. The
    very first security admin is made at once (recorded as staff.bootstrap, alerted)."""
    from ..services.staff import join

    settings = settings_from_env()
    platform = open_platform(settings)
    try:
        joined = join(platform.credentials, platform.approvals, submitter=host_admin(),
                      username=username, role=role, display_name=display_name,
                      ttl_s=ttl_s, ttl_s_max=settings.staff_token_ttl_s_max)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    enrolled, approval_id = joined.enrolled, joined.approval.id if joined.approval else None
    token = enrolled.enrolment.token
    link = f"{settings.public_url}/staff/enrol#{token}"  # the fragment never reaches a server
    if as_json:
        print(json.dumps({"user_id": enrolled.user.id, "username": enrolled.user.username,
                          "role": role, "enrolment_token": token, "enrolment_url": link,
                          "expires_at_ns": enrolled.enrolment.session.absolute_expires_at,
                          "approval_id": approval_id, "bootstrap": joined.bootstrap}))
        return
    if joined.bootstrap:
        err.print(f"staff user {enrolled.user.id} ({enrolled.user.username}) created as the "
                  "first security_admin (recorded as staff.bootstrap; alerted).")
    else:
        err.print(f"staff user {enrolled.user.id} ({enrolled.user.username}) created with no "
                  f"role; the grant of {role} waits for another security admin: "
                  f"approval {approval_id}.")
    err.print("One-time enrolment link (shown once; the new member opens it to add their "
              "passkey):")
    print(link)


@staff_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument(help="the leaver's username")],
               as_json: Annotated[bool, typer.Option("--json",
                                                     help="machine-readable output")] = False
               ) -> None:
    """Deactivate a leaver: disabled, every session and token revoked at once (recorded
    with the time). One person is enough: it only removes access."""
    from ..services.identity.users import find_by_username
    from ..services.staff import deactivate as deactivate_user

    platform = open_platform(settings_from_env())
    try:
        with platform.database.engine.connect() as conn:
            user = find_by_username(conn, username, keys=platform.keys)
        if user is None:
            raise DomainError("staff_not_found", "no staff user with that username")
        done = deactivate_user(platform.database, platform.sessions, clock=platform.clock,
                               user_id=user.id, actor=operator_actor())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"user_id": done.user_id, "username": user.username,
                          "status": "disabled", "deactivated_at_ns": done.at_ns,
                          "sessions_revoked": done.sessions_revoked,
                          "approvals_withdrawn": done.approvals_withdrawn}))
    else:
        err.print(f"{user.username} ({done.user_id}) deactivated; "
                  f"{done.sessions_revoked} session(s) revoked")


@staff_app.command("access-review")
def access_review(as_json: Annotated[bool, typer.Option(
        "--json", help="machine-readable output")] = False) -> None:
    """Who holds which role, when each was last used, and which went unused 90 days."""
    from rich.table import Table

    from ..services.staff.review import UNUSED_S
    from ..services.staff.review import access_review as review

    platform = open_platform(settings_from_env())
    try:
        found = review(platform.database, platform.sessions, clock=platform.clock,
                       keys=platform.keys)
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"unused_after_days": UNUSED_S // 86_400, "data": [
            {"kind": h.kind, "id": h.id, "name": h.name, "status": h.status,
             "privileges": [{"role": p.role, "held_since_ns": p.held_since_ns,
                             "last_used_ns": p.last_used_ns, "unused_90_days": p.unused}
                            for p in h.privileges]} for h in found]}))
        return
    table = Table(title="Access review")
    for column in ("who", "kind", "status", "role", "last used", "unused 90 days"):
        table.add_column(column)
    for h in found:
        if not h.privileges:
            table.add_row(h.name, h.kind, h.status, "(none)", "", "")
        for p in h.privileges:
            table.add_row(h.name, h.kind, h.status, p.role, _day(p.last_used_ns),
                          "[red]yes[/red]" if p.unused else "")
    out.print(table)


def _day(ns: int | None) -> str:
    return "never" if ns is None else datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d")


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
