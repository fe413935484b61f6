#!/usr/bin/env python3
"""Run a throwaway Redis server (Debian's ``redis-server``) for tests.

Standard library only, like pgtemp.py, so it works before any virtualenv exists.

As a command::

    python scripts/redistemp.py -- CMD ARGS...

starts a server, runs CMD with ``PAYWARDEN_TEST_REDIS_URL`` set to
``redis://127.0.0.1:PORT/0``, stops the server, removes its directory and exits
with CMD's exit code, whatever it is.  It composes with pgtemp.py::

    python scripts/redistemp.py -- python scripts/pgtemp.py -- python -m pytest

If ``PAYWARDEN_TEST_REDIS_URL`` is already set, CMD is run as is.  If
``redis-server`` is missing and this is root (CI, a fresh machine), it is
installed with apt-get.  If it is missing and cannot be installed, CMD still
runs without the URL outside CI (the Redis tests skip themselves and this says
so), and in CI (``CI`` set) this exits 1: CI must test the shared rate limits.

The server listens on 127.0.0.1 only, on a free port, with no persistence (no
RDB snapshots, no AOF): it holds nothing worth keeping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence

from pgtemp import exit_on_signals, free_port, log_tail, run_command

ENV_VAR = "PAYWARDEN_TEST_REDIS_URL"
PACKAGE = "redis-server"
BINARY = "redis-server"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
_PORT_ATTEMPTS = 5


class RedisTempError(RuntimeError):
    """The temporary server could not be installed, started or stopped."""


def _log(msg: str) -> None:
    print(f"redistemp: {msg}", file=sys.stderr, flush=True)


def ensure_redis_installed() -> str:
    """The server binary's path; installs Debian's package first when missing and root."""
    found = shutil.which(BINARY)
    if found:
        return found
    if os.geteuid() != 0:
        raise RedisTempError(f"{BINARY} is missing and this is not root; install it with: "
                             f"apt-get install -y {PACKAGE}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", PACKAGE]):
        _log(f"{BINARY} is missing; running: {' '.join(cmd)}")
        # apt's output goes to stderr so that CMD's stdout stays clean.
        rc = subprocess.call(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        if rc != 0:
            raise RedisTempError(f"{' '.join(cmd)} failed with exit code {rc}")
    found = shutil.which(BINARY)
    if not found:
        raise RedisTempError(f"{PACKAGE} installed but {BINARY} is still not on PATH")
    return found


def _ping(port: int) -> bool:
    """True when a Redis server answers PING on ``port`` (inline command, RESP reply)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class _Server:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix="redistemp-")
        self.logfile = os.path.join(self.tmp, "server.log")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _log_tail(self, lines: int = 20) -> str:
        return log_tail(self.logfile, lines)

    def start(self) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = free_port()
            # Settings on the command line override the (absent) config file.
            args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", self.tmp,
                    "--logfile", self.logfile, "--daemonize", "no",
                    "--protected-mode", "yes", "--unixsocket", ""]
            # A session of its own: a Ctrl-C at the terminal reaches the tests, which
            # still need the server while they wind down; we stop it ourselves.
            self.proc = subprocess.Popen(args, cwd=self.tmp, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
            deadline = time.monotonic() + START_TIMEOUT_S
            while self.proc.poll() is None and time.monotonic() < deadline:
                if _ping(self.port):
                    return
                time.sleep(0.05)
            log = self._log_tail(50)
            self.stop_process()
            if "Address already in use" in log and attempt < _PORT_ATTEMPTS:
                _log(f"port {self.port} was taken; retrying with another port")
                continue
            raise RedisTempError(f"{BINARY} did not answer on port {self.port}{log}")

    def stop_process(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # SIGTERM: redis-server exits; with no persistence it saves nothing
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _log(f"{BINARY} {proc.pid} still running after SIGTERM; killing it")
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        try:
            self.stop_process()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def temporary_redis() -> Iterator[str]:
    """Start a throwaway Redis and yield its URL, ``redis://127.0.0.1:PORT/0``.

    On exit (normal, exception, SIGTERM) the server is stopped and its directory removed.
    """
    with exit_on_signals():
        server = _Server(ensure_redis_installed())
        try:
            server.start()
            _log(f"Redis ready on 127.0.0.1:{server.port} (dir {server.tmp})")
            yield f"redis://127.0.0.1:{server.port}/0"
        finally:
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(args) < 2 or args[0] != "--":
        print("usage: redistemp.py -- CMD ARGS...", file=sys.stderr)
        return 2
    args = args[1:]
    if os.environ.get(ENV_VAR):
        _log(f"{ENV_VAR} is already set; not starting a server")
        return run_command(args, dict(os.environ))
    try:
        with temporary_redis() as url:
            return run_command(args, dict(os.environ, **{ENV_VAR: url}))
    except RedisTempError as exc:
        if os.environ.get("CI"):
            _log(f"error: {exc}")
            return 1
        _log(f"{exc}; the Redis tests will be skipped")
        return run_command(args, dict(os.environ))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
