"""A bad setting, an unreachable database or a wrong folder: every command says so in two
lines naming the setting to change, exits 2, and creates nothing (no database, no master
key). Each case runs the real `paywarden` in a subprocess, in an empty folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT_S = 60
COMMANDS = [("keys", "list"), ("verify",), ("audit", "verify"), ("tokens", "issue", "--role",
            "operator"), ("merchants", "show", "mer_0000000000000000"), ("demo",),
            ("evidence", "verify", "evd_x"), ("payments", "parked"), ("serve",)]
FEW = [("keys", "list"), ("verify",), ("serve",), ("run",)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # free, and nothing listens once closed


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAYWARDEN_")}
    return subprocess.run([sys.executable, "-m", "paywarden", *args], cwd=cwd,
                          env={**clean, **env}, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert 1 <= len(lines) <= 2, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


BAD = {
    "mysql": ({"PAYWARDEN_DATABASE_URL": "mysql://shop@db/pay"}, "PAYWARDEN_DATABASE_URL"),
    "garbage url": ({"PAYWARDEN_DATABASE_URL": "not a url at all"}, "PAYWARDEN_DATABASE_URL"),
    "bad port number": ({"PAYWARDEN_PORT": "eighty"}, "PAYWARDEN_PORT"),
    "public url not an origin": ({"PAYWARDEN_PUBLIC_URL": "ftp://pay.example/x"},
                                 "PAYWARDEN_PUBLIC_URL"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", FEW, ids=" ".join)
def test_a_bad_setting_is_named_in_two_lines_and_nothing_is_created(
        case: str, command: tuple[str, ...], tmp_path: Path) -> None:
    env, setting = BAD[case]
    assert_refused(run(tmp_path, env, *command), setting)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("command", [*FEW, ("init",)], ids=" ".join)
def test_an_unreachable_postgresql_is_named_with_its_setting(command: tuple[str, ...],
                                                             tmp_path: Path) -> None:
    url = f"postgresql+psycopg://paywarden:hunter2@127.0.0.1:{closed_port()}/paywarden"
    done = run(tmp_path, {"PAYWARDEN_DATABASE_URL": url}, *command)
    assert_refused(done, "PAYWARDEN_DATABASE_URL", "Connection refused")
    assert "hunter2" not in done.stderr  # the password is not repeated
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("command", [*FEW, ("init",)], ids=" ".join)
def test_a_data_dir_that_is_a_file_is_refused(command: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "var").write_text("not a folder")
    assert_refused(run(tmp_path, {}, *command), "PAYWARDEN_DATA_DIR", "is a file")
    assert files_under(tmp_path) == ["var"]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_empty_data_dir_or_the_wrong_folder_gets_no_database_and_no_key(
        command: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_refused(run(tmp_path, {"PAYWARDEN_DATA_DIR": "empty"}, *command),
                   "no PayWarden database", "paywarden init", "PAYWARDEN_DATA_DIR")
    assert files_under(tmp_path) == ["empty"]


def test_verify_in_the_wrong_folder_makes_no_database_there(tmp_path: Path) -> None:
    assert_refused(run(tmp_path, {}, "verify"), "no PayWarden database", "var/paywarden.db")
    assert files_under(tmp_path) == []


def test_serving_on_a_public_address_without_a_public_url_is_refused(tmp_path: Path) -> None:
    assert run(tmp_path, {}, "init").returncode == 0
    before = files_under(tmp_path)
    for args, env in ((("serve", "--host", "0.0.0.0"), {}),
                      (("run",), {"PAYWARDEN_HOST": "0.0.0.0"})):
        assert_refused(run(tmp_path, env, *args), "PAYWARDEN_PUBLIC_URL", "0.0.0.0")
    assert files_under(tmp_path) == before


def test_a_master_key_that_went_missing_is_not_replaced_by_a_new_one(tmp_path: Path) -> None:
    assert run(tmp_path, {}, "init").returncode == 0
    assert run(tmp_path, {}, "tokens", "issue", "--role", "operator").returncode == 0  # keys
    (tmp_path / "var" / "keys" / "master.key").unlink()
    assert_refused(run(tmp_path, {}, "keys", "list"), "master.key", "PAYWARDEN_MASTER_KEY_FILE")
    assert not (tmp_path / "var" / "keys" / "master.key").exists()
