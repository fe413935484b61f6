"""``paywarden release`` and ``paywarden integrity``: the platform's own files and keys.

The release engineer (or CI) makes a release key once (``release keygen``; the public
half is pinned on every server as ``PAYWARDEN_RELEASE_KEY``) and signs a manifest of the
installed package at each release (``release manifest``). ``serve`` checks it before it
listens and while it runs; ``integrity verify`` runs the same check on demand.
``serve`` also refuses, one line each, to run as root or with its data readable by
others (:func:`check_host`). Decision 0069.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..domain.integrity import Findings
from ..services.integrity import PACKAGE, Integrity
from ..services.integrity.hygiene import running_as_root
from ..services.integrity.manifest import (
    ReleaseKeyInvalid,
    key_id,
    load_release_key,
    new_release_key,
    parse_public_key,
    public_key_text,
    signed_manifest,
)
from ..services.integrity.tree import hash_tree
from ..settings import Settings
from .common import app, err, settings_from_env
from .preflight import Unusable

PASSPHRASE_VARIABLE = "PAYWARDEN_RELEASE_KEY_PASSPHRASE"

release_app = typer.Typer(help="Release keys and the signed manifest of the installed package.",
                          no_args_is_help=True)
integrity_app = typer.Typer(help="Check the running platform's files against its signed "
                            "release, and its data's privacy.", no_args_is_help=True)
app.add_typer(release_app, name="release")
app.add_typer(integrity_app, name="integrity")
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def package_root() -> Path:
    import paywarden

    return Path(paywarden.__file__).resolve().parent


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_VARIABLE)
    return value.encode() if value else None


@release_app.command("keygen")
def keygen(out: Annotated[Path, typer.Option(
        help="where the private key goes (0600, never replaced); keep it off the servers")]
        ) -> None:
    """Make a release key: its private half to --out, its public half printed to pin as
    PAYWARDEN_RELEASE_KEY on every server. A passphrase from PAYWARDEN_RELEASE_KEY_PASSPHRASE
    seals it."""
    try:
        public = new_release_key(out, _passphrase())
    except FileExistsError:
        err.print(f"paywarden: {out} exists; a release key is never replaced in place",
                  style="red", markup=False)
        raise typer.Exit(2) from None
    err.print(f"release key {key_id(public)} written to {out}", markup=False)
    print(f"PAYWARDEN_RELEASE_KEY={public_key_text(public)}")


@release_app.command("manifest")
def manifest(key: Annotated[Path, typer.Option(help="the release key's private half (PEM)")],
             out: Annotated[Path, typer.Option(help="where the signed manifest goes")] = Path(
                 "release-manifest.json"),
             as_json: AsJson = False) -> None:
    """Write the SHA-256 of every file of the installed paywarden package (code, templates,
    static assets, migrations), signed with the release key."""
    try:
        private = load_release_key(key, _passphrase())
    except (ReleaseKeyInvalid, OSError) as exc:
        err.print(f"paywarden: {exc}", style="red", markup=False)
        raise typer.Exit(2) from None
    root = package_root()
    files = hash_tree(root)
    body = signed_manifest(private=private, package=PACKAGE, version=__version__,
                           created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                           files=files)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
    partial.replace(out)
    public = public_key_text(private.public_key())
    if as_json:
        print(json.dumps({"manifest": str(out), "package": PACKAGE, "version": __version__,
                          "files": len(files), "root": str(root),
                          "key_id": key_id(private.public_key()), "release_key": public}))
        return
    err.print(f"{len(files)} files of {PACKAGE} {__version__} ({root}) signed by release key "
              f"{key_id(private.public_key())}: {out}", markup=False, soft_wrap=True)
    err.print(f"servers pin PAYWARDEN_RELEASE_KEY={public} and read it from "
              "PAYWARDEN_RELEASE_MANIFEST", markup=False, soft_wrap=True)


@integrity_app.command("verify")
def verify(as_json: AsJson = False) -> None:
    """Check the installed files against the signed manifest, their bytecode, and that the
    data folder and keys are private; exit 1 naming each problem."""
    settings = settings_from_env()
    found = _checker(settings).findings()
    if as_json:
        print(json.dumps({"ok": found.ok, "version": __version__, "root": str(package_root()),
                          "manifest_path": str(settings.release_manifest_path),
                          "release_key_id": _pinned_id(settings), "problems": found.lines(),
                          **found.detail()}))
    elif found.ok:
        print(f"ok: {found.summary()} ({PACKAGE} {__version__}, release key "
              f"{_pinned_id(settings) or 'none: unsigned'})")
    else:
        for line in found.lines():
            print(line)
    raise typer.Exit(0 if found.ok else 1)


def _pinned_id(settings: Settings) -> str | None:
    return key_id(parse_public_key(settings.release_key)) if settings.release_key else None


def _checker(settings: Settings) -> Integrity:
    """The serving process's check, on the database alone (it records what it refuses)."""
    from ..adapters.clock import SystemClock
    from ..bootstrap import alert_mailer, build_integrity
    from ..services.alerts import Alerts
    from .common import open_store

    database = open_store(settings)
    clock = SystemClock()
    return build_integrity(settings, database=database, clock=clock,
                           alerts=Alerts(database, clock=clock, mailer=alert_mailer(settings)))


def check_host(settings: Settings, *, allow_root: bool) -> None:
    """Before ``serve`` listens: not root (unless allowed), and nothing of the data readable
    by others; :class:`Unusable` with the first problem."""
    if running_as_root() and not allow_root:
        raise Unusable("refusing to serve as root: a flaw in any dependency would own the "
                       "whole host", "run as a user of its own (deploy/systemd), or give "
                       "--allow-root (PAYWARDEN_ALLOW_ROOT) for a throwaway machine")
    checker = _checker(settings)
    try:
        exposed = checker.private_problems()
    finally:
        checker.dispose()
    if exposed:
        raise Unusable(exposed[0], "make it private, then start again"
                       + (f" ({len(exposed) - 1} more)" if len(exposed) > 1 else ""))


def check_release(settings: Settings) -> list[str]:
    """Before ``serve`` listens: the files are the signed release's; a difference is
    recorded (audit leaf, alert) and refuses the start. Returns the warning to print
    once the server has claimed its port (:func:`warn`) when it serves unsigned code."""
    if settings.release_key is None:
        if not settings.allow_unsigned:
            raise Unusable("no release key is pinned, so the code cannot be checked against "
                           "its release", "set PAYWARDEN_RELEASE_KEY and "
                           "PAYWARDEN_RELEASE_MANIFEST (`paywarden release manifest`), or "
                           "give --allow-unsigned for development")
        return [("serving UNSIGNED code (--allow-unsigned): nothing shows it is a release; "
                "only changes made while it serves are found")]
    checker = _checker(settings)
    try:
        found = checker.findings()
        if not found.ok:
            checker.record(found, at_start=True)
    finally:
        checker.dispose()
    if not found.ok:
        _refuse_start(found)
    return []


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"paywarden: WARNING, {warning}", style="bold red", markup=False,
                  highlight=False, soft_wrap=True)


def _refuse_start(found: Findings) -> None:
    for line in found.lines()[1:]:
        err.print(f"paywarden:   {line}", style="red", markup=False, soft_wrap=True)
    raise Unusable(found.summary(), "reinstall the release (or restore the file), then "
                   "`paywarden integrity verify`; the refusal is in the audit log")


def with_integrity_flags(settings: Settings, *, allow_unsigned: bool,
                         allow_root: bool) -> Settings:
    return settings.model_copy(update={
        "allow_unsigned": allow_unsigned or settings.allow_unsigned,
        "allow_root": allow_root or settings.allow_root})


__all__ = ["check_host", "check_release", "warn", "with_integrity_flags"]
