#!/usr/bin/env python3
"""Run a throwaway, real PostgreSQL 15 server for tests.

Standard library only, so it works before any virtualenv exists.

As a module::

    from pgtemp import temporary_postgres
    with temporary_postgres() as url:
        # url == "postgresql+psycopg://postgres@127.0.0.1:PORT/paywarden"
        ...

As a command::

    python scripts/pgtemp.py -- CMD ARGS...

starts a server, runs CMD with ``PAYWARDEN_TEST_PG_URL`` set to the URL, stops
the server, removes its data and exits with CMD's exit code.  If
``PAYWARDEN_TEST_PG_URL`` is already set, CMD is run as is and nothing is
started.  Without a command, the server runs until interrupted.

Each server gets a fresh data directory under the system temp directory, a free
TCP port on 127.0.0.1, a unix socket directory inside its temp directory and
trust authentication for user ``postgres``.  Durability stays ON (fsync,
synchronous_commit, full_page_writes) so crash and durability tests mean
something.  When running as root the server runs as the ``postgres`` OS user
(through ``runuser``); otherwise it runs as the current user.  If PostgreSQL 15
is missing, it is installed with apt-get.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence

ENV_VAR = "PAYWARDEN_TEST_PG_URL"
PG_BIN = "/usr/lib/postgresql/15/bin"
DATABASE = "paywarden"
SUPERUSER = "postgres"
START_TIMEOUT = 60  # seconds
STOP_TIMEOUT = 60  # seconds
_PORT_ATTEMPTS = 5

SERVER_SETTINGS: dict[str, str] = {
    # Durability stays on: the suite includes crash and durability tests.
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    # Sized for a test box.
    "shared_buffers": "256MB",
    "max_connections": "200",
    # Deterministic behaviour.
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "datestyle": "'iso, mdy'",
    "lc_messages": "'C'",
    # Logging goes to server.log in the temp dir (pg_ctl -l).
    "logging_collector": "off",
    "log_min_messages": "warning",
}


class PgTempError(RuntimeError):
    """The temporary server could not be installed, started or stopped."""


def _log(msg: str) -> None:
    print(f"pgtemp: {msg}", file=sys.stderr, flush=True)


def _bin(name: str) -> str:
    return os.path.join(PG_BIN, name)


def _clean_env() -> dict[str, str]:
    """Environment for PostgreSQL programs: no stray PG* settings, fixed locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.pop(ENV_VAR, None)
    env["LC_ALL"] = "C.UTF-8"
    env["LANG"] = "C.UTF-8"
    env["TZ"] = "UTC"
    return env


def ensure_postgres_installed() -> None:
    """Install PostgreSQL 15 with apt-get if its server binary is missing."""
    if os.path.exists(_bin("postgres")):
        return
    if os.geteuid() != 0:
        raise PgTempError(
            f"{_bin('postgres')} is missing and this is not root; install it with: "
            "apt-get install -y postgresql-15"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "postgresql-15"],
    ):
        _log(f"{_bin('postgres')} is missing; running: {' '.join(cmd)}")
        # apt's output goes to stderr so that CMD's stdout stays clean.
        rc = subprocess.call(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        if rc != 0:
            raise PgTempError(f"{' '.join(cmd)} failed with exit code {rc}")
    if not os.path.exists(_bin("postgres")):
        raise PgTempError(f"postgresql-15 installed but {_bin('postgres')} is still missing")


def log_tail(path: str, lines: int) -> str:
    """The last ``lines`` of a server's log, headed for an error message; "" if none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            tail = f.readlines()[-lines:]
    except OSError:
        return ""
    return "\n--- server.log (tail) ---\n" + "".join(tail) if tail else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _temp_base(needs_other_access: bool) -> str:
    """A temp base directory short enough for a unix socket path and, when the
    server runs as another user, traversable by that user."""
    base = tempfile.gettempdir()
    ok = len(base) <= 40
    if ok and needs_other_access:
        try:
            ok = bool(os.stat(base).st_mode & 0o001)
        except OSError:
            ok = False
    return base if ok else "/tmp"


def _runs_as() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) for running the server's programs."""
    if os.geteuid() != 0:
        return [], None, None  # current user (may already be postgres)
    try:
        pw = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PgTempError(f"running as root but there is no {SUPERUSER!r} OS user") from None
    return ["runuser", "-u", SUPERUSER, "--"], pw.pw_uid, pw.pw_gid


class _Server:
    def __init__(self) -> None:
        self.prefix, self.uid, self.gid = _runs_as()
        self.env = _clean_env()
        self.tmp = ""
        self.data = self.sock = self.logfile = ""
        self.port = 0
        self.pid: int | None = None
        self.started = False

    def make_dirs(self) -> None:
        base = _temp_base(needs_other_access=self.uid is not None)
        self.tmp = tempfile.mkdtemp(prefix="pgtemp-", dir=base)
        self.data = os.path.join(self.tmp, "data")
        self.sock = os.path.join(self.tmp, "sock")
        self.logfile = os.path.join(self.tmp, "server.log")
        os.mkdir(self.sock, 0o700)
        if self.uid is not None:
            for path in (self.tmp, self.sock):
                os.chown(path, self.uid, self.gid if self.gid is not None else -1)

    # -- helpers ---------------------------------------------------------
    def _run(
        self,
        args: Sequence[str],
        *,
        as_server: bool = True,
        check: bool = True,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        cmd = (self.prefix if as_server else []) + list(args)
        # cwd is the temp dir: the caller's cwd may be unreadable by postgres.
        # A new session, so that on timeout or SIGTERM the whole group (runuser,
        # initdb and its bootstrap backend, ...) can be killed; pg_ctl start
        # detaches the postmaster into a session of its own.
        with subprocess.Popen(
            cmd,
            cwd=self.tmp,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        ) as p:
            try:
                out, _ = p.communicate(timeout=timeout)
            except BaseException:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise
        proc = subprocess.CompletedProcess(cmd, p.returncode, out)
        if check and proc.returncode != 0:
            raise PgTempError(
                f"{' '.join(args)} failed with exit code {proc.returncode}:\n{proc.stdout}"
                + self._log_tail()
            )
        return proc

    def _log_tail(self, lines: int = 30) -> str:
        return log_tail(self.logfile, lines)

    # -- lifecycle -------------------------------------------------------
    def init(self) -> None:
        self._run(
            [
                _bin("initdb"),
                "-D",
                self.data,
                "--auth=trust",
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            timeout=300,
        )
        with open(os.path.join(self.data, "postgresql.conf"), "a", encoding="utf-8") as f:
            f.write("\n# pgtemp settings\n")
            f.write("listen_addresses = '127.0.0.1'\n")
            f.write(f"unix_socket_directories = '{self.sock}'\n")
            f.writelines(f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items())

    def start(self) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = free_port()
            proc = self._run(
                [
                    _bin("pg_ctl"),
                    "start",
                    "-D",
                    self.data,
                    "-l",
                    self.logfile,
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "-o",
                    f"-p {self.port}",
                ],
                check=False,
                timeout=START_TIMEOUT + 30,
            )
            if proc.returncode == 0:
                self.started = True
                self.pid = self._postmaster_pid()
                return
            log = self._log_tail(200)
            port_taken = "could not bind" in log or "Address already in use" in log
            if port_taken and attempt < _PORT_ATTEMPTS:
                _log(f"port {self.port} was taken; retrying with another port")
                continue
            raise PgTempError(f"pg_ctl start failed ({proc.returncode}):\n{proc.stdout}{log}")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            proc = self._run(
                [
                    _bin("pg_isready"),
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                ],
                as_server=False,
                check=False,
                timeout=30,
            )
            if proc.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise PgTempError(f"server on port {self.port} not ready" + self._log_tail())
            time.sleep(0.1)

    def create_database(self) -> None:
        self._run(
            [
                _bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-c",
                f'CREATE DATABASE "{DATABASE}"',
            ],
            as_server=False,
            timeout=60,
        )

    def _postmaster_pid(self) -> int | None:
        try:
            with open(os.path.join(self.data, "postmaster.pid"), encoding="ascii") as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if not self.tmp:
            return
        try:
            pid = self._postmaster_pid()
            if self.started or (pid is not None and _alive(pid)):
                self._stop_server()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if os.path.exists(self.tmp):
                _log(f"warning: could not remove {self.tmp}")

    def _stop_server(self) -> None:
        pid = self._postmaster_pid() or self.pid
        try:
            proc = self._run(
                [
                    _bin("pg_ctl"),
                    "stop",
                    "-D",
                    self.data,
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(STOP_TIMEOUT),
                ],
                check=False,
                timeout=STOP_TIMEOUT + 30,
            )
            if proc.returncode == 0:
                # pg_ctl returns once postmaster.pid is gone; the process
                # itself exits a moment later.
                if pid is None or _wait_gone(pid, 10):
                    return
                _log(f"postmaster {pid} still running after pg_ctl stop")
            else:
                _log(f"pg_ctl stop -m fast failed ({proc.returncode}): {proc.stdout.strip()}")
        except subprocess.TimeoutExpired:
            _log("pg_ctl stop -m fast timed out")
        if pid is not None and not _wait_gone(pid, 0):
            _log(f"killing postmaster {pid}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 10)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")  # a zombie has exited
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


class _Terminated(SystemExit):
    pass


@contextlib.contextmanager
def exit_on_signals() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into SystemExit so that cleanup runs.

    Only in the main thread, and only for signals nobody else handles."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    fired = False

    def handler(signum: int, _frame: object) -> None:
        nonlocal fired
        if fired:  # already shutting down: let cleanup finish
            _log(f"signal {signum} received again; still cleaning up")
            return
        fired = True
        _log(f"signal {signum} received; stopping")
        raise _Terminated(128 + signum)

    previous: dict[int, object] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        current = signal.getsignal(sig)
        if current in (signal.SIG_DFL, None):
            previous[sig] = current
            signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)  # type: ignore[arg-type]


def _url(port: int) -> str:
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a throwaway PostgreSQL 15 and yield its SQLAlchemy URL.

    The URL is ``postgresql+psycopg://postgres@127.0.0.1:PORT/paywarden``; the
    ``paywarden`` database exists.  On exit (normal, exception, SIGTERM) the
    server is stopped with ``pg_ctl stop -m fast`` and its directory removed.
    """
    with exit_on_signals():
        ensure_postgres_installed()
        server = _Server()
        try:
            server.make_dirs()
            server.init()
            server.start()
            server.wait_ready()
            server.create_database()
            _log(f"PostgreSQL 15 ready on 127.0.0.1:{server.port} (dir {server.tmp})")
            yield _url(server.port)
        finally:
            server.stop()


def run_command(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd`` to its end and return its exit code (128+N for a signal N).

    If this process is interrupted first, the child is stopped before the
    caller's server goes away (redistemp.py shares this)."""
    try:
        proc = subprocess.Popen(cmd, env=env)
    except FileNotFoundError:
        _log(f"command not found: {cmd[0]}")
        return 127
    except PermissionError:
        _log(f"command not executable: {cmd[0]}")
        return 126
    try:
        rc = proc.wait()
    except BaseException:
        # SIGTERM/SIGHUP/Ctrl-C: stop the child before the server goes away.
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise
    return 128 - rc if rc < 0 else rc


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if args and args[0] == "--":
        args = args[1:]
    elif args:
        print("usage: pgtemp.py [-- CMD ARGS...]", file=sys.stderr)
        return 2

    if args and os.environ.get(ENV_VAR):
        _log(f"{ENV_VAR} is already set; not starting a server")
        return run_command(args, dict(os.environ))

    try:
        with temporary_postgres() as url:
            if not args:
                print(url, flush=True)
                _log("running until interrupted (Ctrl-C)")
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        time.sleep(3600)
                return 0
            return run_command(args, dict(os.environ, **{ENV_VAR: url}))
    except PgTempError as exc:
        _log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
