#!/usr/bin/env python3
"""Integrity check benchmark: ``python bench/integrity.py [--trials 5 --interval-s 5]``.

Measures, on a copy of the installed package with its bytecode compiled:

- **the check's cost**: hashing every file, and comparing every ``.pyc`` with its
  source, the first time (cold) and again with nothing changed (warm: only stats);
- **detection**: a real ``paywarden serve`` on the copy, signed, checking every
  ``--interval-s``; one byte of a template is changed at a random moment and the time
  until ``/health/ready`` answers 503 ``integrity_compromised`` is taken, then the file
  is put back and the time until it is ready again. Each must stay within one interval
  plus the check's cost (decision 0069).

The last line of stdout is JSON.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import paywarden
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import paywarden

import httpx

from paywarden.services.integrity.tree import Bytecode, hash_tree

TEMPLATE = "web/templates/docs.html"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def check_cost(package: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    files = hash_tree(package)
    hashed = _ms(started)
    bytecode = Bytecode(package)
    started = time.perf_counter()
    bad = bytecode.findings()
    cold = _ms(started)
    started = time.perf_counter()
    hash_tree(package)
    bytecode.findings()
    warm = _ms(started)
    assert bad == [], bad
    return {"files": len(files), "pyc": sum(1 for _ in package.rglob("*.pyc")),
            "hash_ms": hashed, "bytecode_cold_ms": cold, "check_warm_ms": warm}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "paywarden", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=300)
    return done.stdout


def _until(url: str, status: int, timeout_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        try:
            if httpx.get(url, timeout=2).status_code == status:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer {status} within {timeout_s} s")


def detection(root: Path, trials: int, interval_s: float) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(root), "PAYWARDEN_DATA_DIR": str(root / "data"),
           "PAYWARDEN_RELEASE_MANIFEST": str(root / "manifest.json"),
           "PAYWARDEN_INTEGRITY_INTERVAL_S": str(interval_s), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_ALLOW_ROOT": "true", "PAYWARDEN_ALLOW_UNSIGNED": "false"}
    key = _run(env, "release", "keygen", "--out", str(root / "release.pem")).strip()
    env["PAYWARDEN_RELEASE_KEY"] = key.split("=", 1)[1]
    _run(env, "release", "manifest", "--key", str(root / "release.pem"),
         "--out", env["PAYWARDEN_RELEASE_MANIFEST"])
    _run(env, "init")
    port = _port()
    ready = f"http://127.0.0.1:{port}/health/ready"
    with (root / "server.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--port",
                                 str(port)], env=env, stdout=log, stderr=log)
    try:
        _until(ready, 200, 120)
        template = root / "paywarden" / TEMPLATE
        original = template.read_bytes()
        noticed, restored = [], []
        for _ in range(trials):
            time.sleep(random.uniform(0, interval_s))
            template.write_bytes(original.replace(b"<", b"<!-- -->< ", 1))
            noticed.append(_until(ready, 503, interval_s * 3 + 30))
            template.write_bytes(original)
            restored.append(_until(ready, 200, interval_s * 3 + 30))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"trials": trials, "interval_s": interval_s,
            "noticed_s": {"median": round(statistics.median(noticed), 2),
                          "max": round(max(noticed), 2)},
            "restored_s": {"median": round(statistics.median(restored), 2),
                           "max": round(max(restored), 2)},
            "within_interval": max(noticed) <= interval_s + 1.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--interval-s", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(Path(paywarden.__file__).parent, root / "paywarden",
                        ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(str(root / "paywarden"), quiet=1)
        cost = check_cost(root / "paywarden")
        print(f"check: {cost}", file=sys.stderr)
        detected = detection(root, args.trials, args.interval_s)
    print(json.dumps({"check": cost, "detection": detected}))
    return 0 if detected["within_interval"] else 1


if __name__ == "__main__":
    sys.exit(main())
