"""The platform's own integrity: what a release manifest says, and what differs from it.

A release manifest names every file of the installed ``paywarden`` package (code,
templates, static assets, migrations) with its SHA-256; the release engineer signs
it with the release key (``paywarden release manifest``). The running platform
compares the files it finds with it (:func:`compare`) and checks that its data is
private (:func:`private_mode`); :class:`Findings` is what either found wrong.

Pure: the files are read and the signature checked in ``services/integrity``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = "paywarden-release-manifest/1"
SIGNATURE_ALGORITHM = "ed25519"
PATHS_NAMED_MAX = 20  # in a finding's detail; the count says how many more
GROUP_OR_OTHERS = 0o077


def signed_part(body: Mapping[str, Any]) -> bytes:
    """The bytes a manifest's signature covers: its body as canonical JSON (sorted keys,
    no spaces, ASCII), without the signature itself."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


def manifest_body(*, package: str, version: str, created_at: str,
                  files: Mapping[str, str]) -> dict[str, Any]:
    return {"format": FORMAT, "package": package, "version": version,
            "created_at": created_at, "files": dict(sorted(files.items()))}


@dataclass(frozen=True)
class Findings:
    """What differs from the release, and what is not private. Empty: all is well."""

    changed: tuple[str, ...] = ()  # files whose SHA-256 is not the manifest's
    added: tuple[str, ...] = ()  # files the manifest does not name (a planted module)
    missing: tuple[str, ...] = ()  # files the manifest names that are gone
    manifest: str | None = None  # the manifest itself: missing, unsigned, forged, other version
    exposed: tuple[str, ...] = field(default=())  # a secret or the data readable by others

    @property
    def ok(self) -> bool:
        return not (self.changed or self.added or self.missing or self.manifest or self.exposed)

    def lines(self) -> list[str]:
        """One line a problem, for people (the CLI, the log, refusals)."""
        out = [f"the release manifest {self.manifest}"] if self.manifest else []
        out += [f"changed since the release: {p}" for p in self.changed]
        out += [f"not in the release: {p}" for p in self.added]
        out += [f"missing from the release: {p}" for p in self.missing]
        out += list(self.exposed)
        return out

    def summary(self) -> str:
        lines = self.lines()
        if not lines:
            return "the platform's files are those of its release, and private"
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        return lines[0] + more

    def detail(self) -> dict[str, Any]:
        """For the audit leaf and ``--json``: which files, bounded."""
        def named(paths: tuple[str, ...]) -> list[str]:
            return list(paths[:PATHS_NAMED_MAX])

        return {"changed": named(self.changed), "added": named(self.added),
                "missing": named(self.missing), "manifest": self.manifest,
                "exposed": named(self.exposed),
                "counts": {"changed": len(self.changed), "added": len(self.added),
                           "missing": len(self.missing), "exposed": len(self.exposed)}}

    def digest(self) -> str:
        """Names this set of findings: the same problems, the same digest."""
        text = json.dumps([self.changed, self.added, self.missing, self.manifest,
                           self.exposed], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def compare(expected: Mapping[str, str], found: Mapping[str, str]) -> Findings:
    """``expected`` and ``found`` map a path (relative, ``/``-separated) to its SHA-256."""
    return Findings(
        changed=tuple(sorted(p for p in expected.keys() & found.keys()
                             if expected[p] != found[p])),
        added=tuple(sorted(found.keys() - expected.keys())),
        missing=tuple(sorted(expected.keys() - found.keys())))


def private_mode(mode: int) -> bool:
    """No permission at all for group or others (``chmod 700`` / ``600``)."""
    return mode & GROUP_OR_OTHERS == 0
