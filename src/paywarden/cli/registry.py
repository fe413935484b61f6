"""``paywarden registry``: the credit registry's signed feed and its shared hashing key,
on the server host (each audited as the operator; decision 0031).

    registry key install FILE     the hashing key shared by the feed's institutions
                                  (32 bytes, raw or base64), before the first entry
    registry key id               the public id of the hashing key a feed must match
    registry feed export [-o F]   sign the next feed of our own entries
    registry feed import FILE     check a trusted source's feed and apply it

Sources are trusted through the staff API (a request and another's approval), not
here: one person on the host must not be able to make a feed count.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ..domain.errors import DomainError
from .common import app, err, open_platform, operator_actor, settings_from_env

if TYPE_CHECKING:
    from ..bootstrap import Platform

registry_app = typer.Typer(help="The credit registry: its signed feed and hashing key.",
                           no_args_is_help=True)
feed_app = typer.Typer(help="Export our feed, import another institution's.",
                       no_args_is_help=True)
key_app = typer.Typer(help="The registry's hashing key.", no_args_is_help=True)
registry_app.add_typer(feed_app, name="feed")
registry_app.add_typer(key_app, name="key")
app.add_typer(registry_app, name="registry")

T = TypeVar("T")
FEED_FILE_BYTES_MAX = 256 * 1024 * 1024
KEY_FILE_BYTES_MAX = 1024


def _run(action: Callable[[Platform], T]) -> T:
    platform = open_platform(settings_from_env())
    try:
        return action(platform)
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        err.print(f"[red]{path} is larger than {limit} bytes[/red]")
        raise typer.Exit(2)
    return data


@key_app.command("install")
def key_install(path: Annotated[Path, typer.Argument(help="the shared key: 32 bytes, raw "
                                                     "or base64", exists=True)]) -> None:
    """Install the hashing key the feed's institutions share (before the first entry)."""
    data = _read(path, KEY_FILE_BYTES_MAX)
    if len(data) != 32:
        try:
            data = base64.b64decode(data.strip(), validate=True)
        except binascii.Error:
            data = b""
    print(json.dumps({"key_id": _run(lambda p: p.registry.install_shared_key(
        data, actor=operator_actor()))}))


@key_app.command("id")
def key_id() -> None:
    """The public id of the hashing key: feeds are imported only under the same id."""
    print(json.dumps({"key_id": _run(lambda p: p.registry.key_id())}))


@feed_app.command("export")
def export(out: Annotated[Path | None, typer.Option("--out", "-o", help="write the feed "
                                                    "here; default: stdout")] = None) -> None:
    """Sign the next feed: our live entries, digests only, with the next sequence number."""
    sequence, text = _run(lambda p: p.registry.export_feed(actor=operator_actor()))
    if out is None:
        print(text)
        return
    out.write_text(text + "\n", encoding="ascii")
    err.print(f"feed {sequence} written to {out}")


@feed_app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="the feed (a compact JWS)",
                                                 exists=True)],
            allow_gap: Annotated[bool, typer.Option("--allow-gap", help="accept a sequence "
                                                    "after the next one (stated, audited)")]
            = False) -> None:
    """Check a trusted source's feed (signature, issuer, hashing key, next sequence) and
    make its entries here what it says; prints what changed."""
    text = _read(path, FEED_FILE_BYTES_MAX).decode("ascii", errors="replace").strip()
    done = _run(lambda p: p.registry.import_feed(text, actor=operator_actor(),
                                                 allow_gap=allow_gap))
    print(json.dumps({"issuer": done.issuer, "sequence": done.sequence, "added": done.added,
                      "updated": done.updated, "removed": done.removed}))
