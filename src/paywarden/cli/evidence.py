"""``paywarden evidence``: prove what a customer's authenticator approved."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import app, err, open_platform, settings_from_env

evidence_app = typer.Typer(help="Step-up evidence.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify")
def verify(evidence_id: Annotated[str, typer.Argument(help="the evidence's evd_… id")],
           as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
           expected_origin: Annotated[str | None, typer.Option(
               help="the origin it must have been made on; default: PAYWARDEN_PUBLIC_URL")] = None,
           expected_rp_id: Annotated[str | None, typer.Option(
               help="the relying party id; default: PAYWARDEN_WEBAUTHN_RP_ID")] = None) -> None:
    """Check a step-up evidence row from that row alone; exit 0 if it holds, 1 if not."""
    from ..services.identity.evidence import approved, load, verify_record

    settings = settings_from_env()
    platform = open_platform(settings)
    try:
        with platform.database.engine.connect() as conn:
            record = load(conn, evidence_id)
    finally:
        platform.database.dispose()
    if record is None:
        if as_json:
            print(json.dumps({"evidence_id": evidence_id, "verified": False,
                              "failed": ["exists"]}))
        err.print(f"[red]no evidence {evidence_id!r}[/red]")
        raise typer.Exit(1)
    report = verify_record(record, expected_origin=expected_origin or settings.public_url,
                           expected_rp_id=expected_rp_id or settings.webauthn_rp_id)
    what = approved(report.operation) if report.operation is not None else None
    if as_json:
        print(json.dumps({
            "evidence_id": record.id, "verified": report.ok, "failed": report.failed,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
            "approved": what, "user_id": record.user_id, "credential_id": record.credential_id,
            "created_at_ns": record.created_at,
        }, sort_keys=True))
    else:
        for c in report.checks:
            mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
            err.print(f"{mark} {c.name:<14} {c.detail}", highlight=False)
        if report.ok and what is not None:
            print(f"{record.id}: {record.user_id} approved {what['type']} of "
                  f"{what['amount_display']} to {what['payee']!r} "
                  f"(reference {what['reference']!r})")
        else:
            print(f"{record.id}: NOT VERIFIED; failed: {', '.join(report.failed)}")
    raise typer.Exit(0 if report.ok else 1)
