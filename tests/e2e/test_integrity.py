"""The platform notices when its own code or files change (issue 16, decision 0069).

A copy of the package is installed in a folder of the test's own (first on PYTHONPATH),
its manifest signed with a release key made here, and a real ``paywarden serve`` runs
from it, checking every second. Each test then tampers with one thing — a template, a
module, a static file, a planted module, a planted ``.pyc``, a key file made
world-readable, the signed manifest — and shows the refusal (readiness and a write
answered 503 ``integrity_compromised``), the audit leaf naming the file and the staff
alert; then it puts the file back and readiness returns. Then the start-up refusals:
each one clear line, and nothing served.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import paywarden

from .server import free_port, spawn
from .server import paywarden as run_paywarden

CHECK_INTERVAL_S = "1"
NOTICE_TIMEOUT_S = 30.0  # the check runs every second; a loaded CI machine is slow


@dataclass
class Release:
    root: Path  # the installed copy: root / "paywarden"
    data: Path
    env: dict[str, str]
    token: str  # a supervisor's: reads the audit log

    @property
    def package(self) -> Path:
        return self.root / "paywarden"


def _release(tmp: Path) -> Release:
    root = tmp / "site"
    shutil.copytree(Path(paywarden.__file__).parent, root / "paywarden",
                    ignore=shutil.ignore_patterns("__pycache__"))
    data = tmp / "data"
    env = {**os.environ, "PYTHONPATH": str(root), "PAYWARDEN_DATA_DIR": str(data),
           "PAYWARDEN_INTEGRITY_INTERVAL_S": CHECK_INTERVAL_S,
           "PAYWARDEN_ALLOW_UNSIGNED": "false", "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_RELEASE_MANIFEST": str(tmp / "release-manifest.json")}
    made = run_paywarden(env, "release", "keygen", "--out", str(tmp / "release.pem"))
    env["PAYWARDEN_RELEASE_KEY"] = made.stdout.strip().split("=", 1)[1]
    signed = run_paywarden(env, "release", "manifest", "--key", str(tmp / "release.pem"),
                           "--out", env["PAYWARDEN_RELEASE_MANIFEST"], "--json")
    assert json.loads(signed.stdout)["root"] == str(root / "paywarden")
    run_paywarden(env, "init")
    issued = run_paywarden(env, "tokens", "issue", "--role", "supervisor", "--json")
    return Release(root, data, env, json.loads(issued.stdout)["token"])


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return _release(tmp_path_factory.mktemp("integrity"))


@pytest.fixture(scope="module")
def server(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("integrity-log") / "server.log"
    proc, base = spawn(release.env, free_port(), log)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _until(what: Callable[[], bool], message: str) -> None:
    deadline = time.monotonic() + NOTICE_TIMEOUT_S
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.2)
    pytest.fail(message)


def _ready(base: str) -> httpx.Response:
    return httpx.get(f"{base}/health/ready", timeout=5)


def _leaves(release: Release, base: str, action: str) -> list[dict[str, Any]]:
    auth = {"Authorization": f"Bearer {release.token}"}
    size = httpx.get(f"{base}/v1/audit/sth", headers=auth, timeout=10).json()["tree_size"]
    found = []
    for start in range(0, size, 1000):
        page = httpx.get(f"{base}/v1/audit/entries", params={"start": start, "end": size - 1},
                         headers=auth, timeout=10).json()["data"]
        found += [json.loads(base64.b64decode(e["leaf"])) for e in page]
    return [leaf for leaf in found if leaf["action"] == action]


def _alerts(release: Release, base: str | None = None) -> list[dict[str, Any]]:
    """Newest first: from the server at ``base``, else listed by the checkout's own code
    (the copy may be the one tampered with)."""
    if base is not None:
        listed = httpx.get(f"{base}/v1/staff/alerts", timeout=10,
                           headers={"Authorization": f"Bearer {release.token}"}).json()
    else:
        env = {k: v for k, v in release.env.items() if k != "PYTHONPATH"}
        listed = json.loads(run_paywarden(env, "alerts", "list", "--json").stdout)
    return [a for a in listed["data"] if a["kind"] == "integrity.violated"]


def _refused_then_restored(release: Release, base: str, tamper: Callable[[], None],
                           restore: Callable[[], None], named: str) -> dict[str, Any]:
    """Tamper, see it refused, recorded and alerted; restore, see it ready again. Returns
    the audit leaf's detail."""
    assert _ready(base).status_code == 200
    violations, restorations = len(_leaves(release, base, "integrity.violated")), len(
        _leaves(release, base, "integrity.restored"))
    alerts = len(_alerts(release, base))
    tamper()
    try:
        _until(lambda: _ready(base).status_code == 503, "the change was not noticed")
        answer = _ready(base)
        assert answer.json()["code"] == "integrity_compromised"
        write = httpx.post(f"{base}/v1/customers", json={}, timeout=10)
        assert (write.status_code, write.json()["code"]) == (503, "integrity_compromised")
        assert write.headers["Retry-After"]
        assert httpx.get(f"{base}/v1/audit/sth", timeout=10, headers={
            "Authorization": f"Bearer {release.token}"}).status_code == 200  # reads go on
        _until(lambda: len(_leaves(release, base, "integrity.violated")) > violations,
               "no audit leaf recorded the change")
        leaf = _leaves(release, base, "integrity.violated")[-1]
        assert leaf["outcome"] == "refused" and leaf["actor"] == "system"
        found = json.dumps(leaf["detail"])
        assert named in found, found
        now = _alerts(release, base)
        new_alerts = now[: len(now) - alerts]
        assert len(new_alerts) >= 1
        assert new_alerts[0]["severity"] == "critical"
        assert new_alerts[0]["subject"].startswith("writes refused: ")
    finally:
        restore()
    _until(lambda: _ready(base).status_code == 200, "readiness did not come back")
    assert httpx.post(f"{base}/v1/customers", json={}, timeout=10).status_code != 503
    assert len(_leaves(release, base, "integrity.restored")) > restorations
    return dict(leaf["detail"])


def _swap_byte(path: Path) -> Callable[[], None]:
    original = path.read_bytes()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(changed))
    return lambda: path.write_bytes(original)


@pytest.mark.parametrize("relative", ["web/templates/docs.html", "services/receipts.py",
                                      "web/static/docs.js"],
                         ids=["template", "module", "static"])
def test_a_changed_byte_is_refused_recorded_and_alerted(
        release: Release, server: str, relative: str) -> None:
    restore: list[Callable[[], None]] = []
    detail = _refused_then_restored(
        release, server, lambda: restore.append(_swap_byte(release.package / relative)),
        lambda: restore[0](), relative)
    assert detail["changed"] == [relative]


def test_a_file_added_to_the_package_is_refused(release: Release, server: str) -> None:
    planted = release.package / "services" / "exfiltrate.py"
    detail = _refused_then_restored(
        release, server, lambda: planted.write_text("import os\n"), planted.unlink,
        "services/exfiltrate.py")
    assert detail["added"] == ["services/exfiltrate.py"]


def test_planted_bytecode_that_is_not_its_source_is_refused(
        release: Release, server: str) -> None:
    """A .pyc Python would run in place of receipts.py: a valid header, other code."""
    import importlib.util
    import marshal

    source = release.package / "services" / "receipts.py"
    cache = source.parent / "__pycache__" / f"receipts.{sys.implementation.cache_tag}.pyc"
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little") + (
        int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (
        stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    trojan = compile("STOLEN = []\n", str(source), "exec")

    def plant() -> None:
        cache.parent.mkdir(exist_ok=True)
        cache.write_bytes(header + marshal.dumps(trojan))

    detail = _refused_then_restored(release, server, plant, cache.unlink,
                                    "its code is not its source")
    assert detail["added"][0].startswith(f"services/__pycache__/{cache.name}")


def test_a_key_file_made_world_readable_is_refused(release: Release, server: str) -> None:
    key = release.data / "keys" / "master.key"
    assert key.stat().st_mode & 0o777 == 0o600
    detail = _refused_then_restored(release, server, lambda: key.chmod(0o644),
                                    lambda: key.chmod(0o600), str(key))
    assert detail["exposed"] and "chmod 600" in detail["exposed"][0]


def test_a_tampered_manifest_is_refused(release: Release, server: str) -> None:
    manifest = Path(release.env["PAYWARDEN_RELEASE_MANIFEST"])
    original = manifest.read_bytes()
    body = json.loads(original)
    body["files"]["services/receipts.py"] = "0" * 64  # as a trojan's installer would

    detail = _refused_then_restored(
        release, server, lambda: manifest.write_text(json.dumps(body)),
        lambda: manifest.write_bytes(original), "not signed by the pinned release key")
    assert detail["manifest"].startswith("is not signed by the pinned release key")


def test_verify_names_what_differs_and_exits_1(release: Release) -> None:
    checked = subprocess.run([sys.executable, "-m", "paywarden", "integrity", "verify",
                              "--json"], env=release.env, capture_output=True, text=True,
                             timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["ok"] is True
    restore = _swap_byte(release.package / "web" / "templates" / "base.html")
    try:
        checked = subprocess.run([sys.executable, "-m", "paywarden", "integrity", "verify",
                                  "--json"], env=release.env, capture_output=True, text=True,
                                 timeout=120, check=False)
    finally:
        restore()
    assert checked.returncode == 1
    report = json.loads(checked.stdout)
    assert report["ok"] is False and report["changed"] == ["web/templates/base.html"]


# -- start-up refusals: one clear line, exit 2, nothing listening -----------------------

def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paywarden", "serve", "--host", "127.0.0.1",
                           "--port", str(free_port()), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _refused(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 2, done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("paywarden: ") and words in first, done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """A release no server runs: each test below puts back what it changed."""
    return _release(tmp_path_factory.mktemp("integrity-idle"))


@pytest.fixture
def fresh(idle: Release) -> Iterator[Release]:
    manifest = Path(idle.env["PAYWARDEN_RELEASE_MANIFEST"])
    saved = manifest.read_bytes()
    yield idle
    manifest.write_bytes(saved)
    idle.data.chmod(0o700)
    (idle.data / "keys" / "master.key").chmod(0o600)
    os.chown(idle.data / "paywarden.db", os.geteuid(), os.getegid())


def test_a_changed_file_refuses_the_start_and_is_recorded(fresh: Release) -> None:
    restore = _swap_byte(fresh.package / "web" / "templates" / "docs.html")
    try:
        _refused(_serve(fresh.env), "changed since the release: web/templates/docs.html")
    finally:
        restore()
    alerts = _alerts(fresh)
    assert alerts and alerts[0]["subject"].startswith("refused to start: ")
    assert alerts[0]["detail"]["at_start"] is True


def test_a_data_folder_others_can_read_refuses_the_start(fresh: Release) -> None:
    fresh.data.chmod(0o755)
    _refused(_serve(fresh.env), f"the data folder {fresh.data} can be read by others")


def test_a_world_readable_master_key_refuses_the_start(fresh: Release) -> None:
    (fresh.data / "keys" / "master.key").chmod(0o604)
    _refused(_serve(fresh.env), "master.key can be read by others")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_database_file_of_another_user_refuses_the_start(fresh: Release) -> None:
    os.chown(fresh.data / "paywarden.db", 65534, 65534)  # nobody
    _refused(_serve(fresh.env), "belongs to user 65534")


def test_no_pinned_release_key_refuses_the_start(fresh: Release) -> None:
    env = {k: v for k, v in fresh.env.items() if k != "PAYWARDEN_RELEASE_KEY"}
    _refused(_serve(env), "no release key is pinned")


def test_a_manifest_signed_by_another_key_refuses_the_start(
        fresh: Release, tmp_path: Path) -> None:
    other = run_paywarden(fresh.env, "release", "keygen", "--out", str(tmp_path / "other.pem"))
    env = {**fresh.env, "PAYWARDEN_RELEASE_KEY": other.stdout.strip().split("=", 1)[1]}
    _refused(_serve(env), "not signed by the pinned release key")


@pytest.mark.skipif(os.geteuid() != 0, reason="the root refusal is seen only as root")
def test_root_is_refused_without_allow_root(fresh: Release) -> None:
    env = {**fresh.env, "PAYWARDEN_ALLOW_ROOT": "false"}
    _refused(_serve(env), "refusing to serve as root")


def test_allow_unsigned_says_so_loudly_and_still_watches(
        fresh: Release, tmp_path: Path) -> None:
    env = {k: v for k, v in fresh.env.items() if k != "PAYWARDEN_RELEASE_KEY"}
    proc, base = spawn(env, free_port(), tmp_path / "unsigned.log", "--allow-unsigned")
    try:
        assert "WARNING, serving UNSIGNED code" in (tmp_path / "unsigned.log").read_text()
        restore = _swap_byte(fresh.package / "web" / "static" / "docs.js")
        try:
            _until(lambda: _ready(base).status_code == 503,
                   "an unsigned server did not notice the change")
        finally:
            restore()
        _until(lambda: _ready(base).status_code == 200, "readiness did not come back")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
