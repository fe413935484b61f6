"""What was measured: the source checkout, its commit and the installed versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# src/paywarden/benchmarks/ledger/provenance.py -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[4]


def source_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    state: dict[str, Any] = {"paywarden": dist_version("paywarden")}
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(REPO_ROOT),
                "status",
                "--porcelain",
                "--",
                "src",
                ":!src/paywarden/benchmarks",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return state
    state["git_commit"] = head.stdout.strip()
    # Uncommitted changes to the code under test (the benchmark itself excluded).
    state["src_modified"] = sorted(line[3:] for line in dirty.stdout.splitlines())
    return state


def dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
