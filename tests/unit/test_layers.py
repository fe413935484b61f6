"""The layer contracts in pyproject.toml ([tool.importlinter]) hold, and they catch a breach.

Entry points (api, web, cli) -> composition root (bootstrap) -> services -> adapters ->
domain; the domain does no I/O; nothing imports upward (decision 0023). ``lint-imports``
reads the code without importing it, so a ``TYPE_CHECKING`` import counts too: that is
how the old circle between services and ``bootstrap`` hid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import paywarden

SOURCE_ROOT = Path(paywarden.__file__).resolve().parents[1]  # the src/ holding paywarden
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
RUN_TIMEOUT_S = 120


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the ``paywarden`` package found under ``source_root``."""
    program = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run([str(program), "--config", str(PYPROJECT), "--no-cache", "--no-logo"],
                          env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          check=False)


def test_the_layer_contracts_are_kept() -> None:
    done = lint_imports(SOURCE_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copytree(SOURCE_ROOT / "paywarden", tmp_path / "paywarden",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return tmp_path


BREACHES = {
    "a service importing the composition root under TYPE_CHECKING": (
        "services/_breach.py",
        ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
         "    from ..bootstrap import Platform\n"),
        "paywarden.services is not allowed to import paywarden.bootstrap"),
    "a service importing a route": (
        "services/_breach.py", "from ..api import problems\n",
        "paywarden.services is not allowed to import paywarden.api"),
    "an adapter importing a service": (
        "adapters/_breach.py", "from ..services import audit\n",
        "paywarden.adapters is not allowed to import paywarden.services"),
    "the domain opening a database": (
        "domain/_breach.py", "import sqlalchemy\n",
        "paywarden.domain is not allowed to import sqlalchemy"),
    "the domain reading a file": (
        "domain/_breach.py", "from pathlib import Path\n",
        "paywarden.domain is not allowed to import pathlib"),
    "a service reading the settings": (
        "services/_breach.py", "from ..settings import Settings\n",
        "paywarden.services is not allowed to import paywarden.settings"),
}


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_an_upward_or_io_import_breaks_a_contract(copy_of_the_code: Path, breach: str) -> None:
    path, code, message = BREACHES[breach]
    (copy_of_the_code / "paywarden" / path).write_text(
        "from __future__ import annotations\n\n" + code, encoding="utf-8")
    done = lint_imports(copy_of_the_code)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout
