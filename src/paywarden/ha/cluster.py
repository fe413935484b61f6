"""The local cluster's processes: etcd, then one Patroni per PostgreSQL member.

Every process starts in a session of its own and outlives the command that started it;
its pid is written under ``root/pids`` so that another command (``paywarden ha down``)
finds it. PostgreSQL refuses to run as root, so when this runs as root each Patroni (and
the PostgreSQL it starts) runs as the ``postgres`` user; Python is then one that user may
execute, with this environment's packages on its path.

``kill_postmaster`` is SIGKILL to the leader's PostgreSQL, the failure that
``bench/ha.py`` and the failover tests inject; ``kill_member`` is a lost host (Patroni
and its PostgreSQL at once); ``paused`` freezes a member's every process with SIGSTOP,
cutting it off from etcd, clients and replicas without closing a socket.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from .patroni import PG_BIN, member_config
from .plan import DATABASE, HOST, SUPERUSER, EtcdMember, Member, Plan

PLAN_FILE = "cluster.json"
UP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 30
ACK_TIMEOUT_S = 3
PG_USER = "postgres"
ETCD = "etcd"


class ClusterFailed(RuntimeError):
    """The cluster did not come up, or a member did not do what was asked; says which."""


class Cluster:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.root = Path(plan.root)
        self._spawned: dict[str, subprocess.Popen[bytes]] = {}  # what this object started

    # -- up and down ---------------------------------------------------------------------
    def up(self, *, timeout_s: float = UP_TIMEOUT_S) -> None:
        """Start etcd and every member, wait for a leader with a synchronous replica, and
        create the database. A cluster already running under ``root`` is kept."""
        if importlib.util.find_spec("patroni") is None:
            raise ClusterFailed("Patroni is not installed here: pip install -e '.[ha]' "
                                "(make test installs it)")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / PLAN_FILE).write_text(json.dumps(self.plan.public(), indent=2))
        for etcd in self.plan.etcd:
            self._start_etcd(etcd)
        self._wait(lambda: all(self._etcd_healthy(e) for e in self.plan.etcd), timeout_s,
                   "etcd did not become healthy")
        self._make_archive()
        for member in self.plan.members:
            self.start_member(member)
        self.wait_writable(timeout_s=timeout_s)
        self._create_database()

    def down(self) -> None:
        """Stop every member, then etcd: SIGTERM, SIGKILL after ``STOP_TIMEOUT_S``."""
        for member in self.plan.members:
            self._stop(member.name)
            postmaster = self.postmaster_pid(member)
            if postmaster is not None:
                _signal(postmaster, signal.SIGKILL)
        for etcd in self.plan.etcd:
            self._stop(etcd.name)

    def destroy(self) -> None:
        """``down``, then remove every file of the cluster."""
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- members -------------------------------------------------------------------------
    def start_member(self, member: Member) -> None:
        if self._alive(member.name):
            return
        directory = Path(member.dir)
        directory.mkdir(parents=True, exist_ok=True)
        Path(member.config_file).write_text(json.dumps(member_config(self.plan, member),
                                                       indent=2))
        runs_as = _postgres_user()
        if runs_as is not None:
            shutil.chown(directory, runs_as.pw_uid, runs_as.pw_gid)
            for path in directory.iterdir():
                if path.name != "data":
                    shutil.chown(path, runs_as.pw_uid, runs_as.pw_gid)
            if not _may_write(runs_as, directory):
                raise ClusterFailed(
                    f"the {PG_USER} user cannot reach {directory} (a folder above it is "
                    "closed to others): put the cluster where it can, with --dir")
        python, env = _python_for(runs_as)
        self._spawn(member.name, [python, "-m", "patroni", str(member.config_file)],
                    Path(member.dir) / "stdout.log", env=env, user=runs_as)

    def kill_member(self, member: Member) -> None:
        """The host is lost: Patroni and its PostgreSQL are killed at once."""
        postmaster = self.postmaster_pid(member)
        self._kill(member.name)
        if postmaster is not None:
            _signal(postmaster, signal.SIGKILL)

    def kill_postmaster(self, member: Member) -> int:
        """SIGKILL to the member's postmaster; its pid."""
        pid = self.postmaster_pid(member)
        if pid is None:
            raise ClusterFailed(f"{member.name} runs no PostgreSQL")
        _signal(pid, signal.SIGKILL)
        return pid

    @contextlib.contextmanager
    def paused(self, member: Member) -> Iterator[None]:
        """SIGSTOP to every process of the member (Patroni, the postmaster and each of its
        children: backends, WAL senders), SIGCONT on leaving: a host frozen, cut off from
        etcd, its clients and its replicas without closing a socket.

        (Stopping Patroni alone while PostgreSQL runs on is the case Patroni's watchdog
        exists for: without one, the old primary's backends and WAL senders go on, and a
        replica that still follows it acknowledges commits the new leader lacks. The
        production configuration enables the watchdog; docs/decisions/0065.)"""
        patroni, postmaster = self._pid(member.name), self.postmaster_pid(member)
        stopped = [p for p in (postmaster, patroni) if p is not None]
        if postmaster is not None:
            stopped += _children(postmaster)
        for pid in stopped:
            _signal(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in reversed(stopped):
                _signal(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def replay_stopped(self, members: list[Member]) -> Iterator[None]:
        """SIGSTOP to the replicas' startup (recovery) process: they go on receiving WAL
        but apply none of it, and fall behind as replicas do under load. (Patroni resumes
        ``pg_wal_replay_pause()`` at its next loop; this it cannot.)"""
        stopped = [pid for m in members
                   for pid in _children(self.postmaster_pid(m) or -1)
                   if b"startup" in _cmdline(pid)]
        for pid in stopped:
            _signal(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in stopped:
                _signal(pid, signal.SIGCONT)

    def etcd_leader(self) -> EtcdMember | None:
        """The etcd member that leads its raft group now (each member's own status)."""
        ids: dict[str, EtcdMember] = {}
        leader = None
        for member in self.plan.etcd:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                status = httpx.post(f"{member.client_url}/v3/maintenance/status", json={},
                                    timeout=2, trust_env=False).json()
                ids[status["header"]["member_id"]] = member
                leader = status["leader"]
        return ids.get(leader) if leader is not None else None

    def kill_etcd(self, member: EtcdMember) -> None:
        self._kill(member.name)

    def start_etcd(self, member: EtcdMember) -> None:
        self._start_etcd(member, state="existing")

    def postmaster_pid(self, member: Member) -> int | None:
        try:
            first = (Path(member.data_dir) / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        return pid if _exists(pid) else None

    # -- state ---------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """Patroni's view of the members (``GET /cluster`` on the first that answers)."""
        for member in self.plan.members:
            try:
                response = httpx.get(f"{member.rest_url}/cluster", timeout=2, trust_env=False)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                members: list[dict[str, Any]] = response.json().get("members", [])
                return members
        return []

    def leader(self) -> Member | None:
        for row in self.status():
            if row.get("role") == "leader" and row.get("state") == "running":
                return self.plan.member(row["name"])
        return None

    def synchronous_replicas(self) -> list[str]:
        return [r["name"] for r in self.status()
                if r.get("role") in ("sync_standby", "quorum_standby")
                and r.get("state") == "streaming"]

    def wait_writable(self, *, timeout_s: float = UP_TIMEOUT_S) -> Member:
        """Wait for a leader that takes writes with a synchronous replica streaming."""
        self._wait(lambda: self.leader() is not None and bool(self.synchronous_replicas()),
                   timeout_s, "no leader with a synchronous replica")
        leader = self.leader()
        assert leader is not None
        return leader

    def wait_leader(self, *, other_than: Member, timeout_s: float = UP_TIMEOUT_S) -> Member:
        """Wait for a member other than ``other_than`` to lead (a failover happened)."""
        self._wait(lambda: (self.leader() or other_than) != other_than, timeout_s,
                   f"no leader other than {other_than.name}")
        leader = self.leader()
        assert leader is not None
        return leader

    def follows(self, member: Member) -> Member | None:
        """Whom ``member`` streams WAL from now (``pg_stat_wal_receiver``), if anyone."""
        try:
            with psycopg.connect(f"postgresql://{SUPERUSER}@{member.address}/{DATABASE}",
                                 connect_timeout=ACK_TIMEOUT_S, autocommit=True) as conn:
                row = conn.execute("SELECT sender_port FROM pg_stat_wal_receiver "
                                   "WHERE status = 'streaming'").fetchone()
        except psycopg.Error:
            return None
        return next((m for m in self.plan.members if row and m.pg_port == row[0]), None)

    def acknowledges_write(self, member: Member) -> bool:
        """Whether ``member`` commits a write of its own (a transaction id) within
        ``ACK_TIMEOUT_S``: a primary with a synchronous replica does; a replica, a stopped
        member or a primary that lost its replicas does not. (A commit whose wait for its
        replica is cancelled returns with only a warning, "committed locally": counted as
        not acknowledged, as PayWarden would never have answered it.)"""
        warned: list[str] = []
        try:  # in the postgres database: the probe's table stays out of PayWarden's
            with psycopg.connect(f"postgresql://{SUPERUSER}@{member.address}/postgres",
                                 connect_timeout=ACK_TIMEOUT_S, autocommit=True) as conn:
                conn.add_notice_handler(lambda notice: warned.append(
                    notice.message_primary or ""))
                timer = threading.Timer(ACK_TIMEOUT_S, conn.cancel_safe)
                timer.start()
                try:  # a row, not only a transaction id: only a commit that wrote WAL
                    with conn.transaction():  # waits for a synchronous replica
                        conn.execute("CREATE TABLE IF NOT EXISTS ha_probe (at timestamptz)")
                        conn.execute("INSERT INTO ha_probe VALUES (now())")
                finally:
                    timer.cancel()
        except psycopg.Error:
            return False
        return not any("synchronous replication" in w for w in warned)

    def wait_members(self, *, running: int, timeout_s: float = UP_TIMEOUT_S) -> None:
        """Wait until ``running`` members run or stream (the leader and its replicas)."""
        self._wait(lambda: sum(r.get("state") in ("running", "streaming")
                               for r in self.status()) >= running,
                   timeout_s, f"fewer than {running} members running")

    def patch_config(self, changes: dict[str, Any]) -> None:
        """Change the cluster-wide configuration (``PATCH /config``) through any member."""
        for member in self.plan.members:
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.patch(f"{member.rest_url}/config", json=changes, timeout=5,
                                       trust_env=False)
                if response.status_code == 200:
                    return
        raise ClusterFailed("no member took the configuration change")

    # -- inside --------------------------------------------------------------------------
    def _start_etcd(self, member: EtcdMember, *, state: str = "new") -> None:
        if self._alive(member.name):
            return
        if shutil.which(ETCD) is None:
            raise ClusterFailed("etcd is not installed: apt-get install etcd-server")
        Path(member.dir).mkdir(parents=True, exist_ok=True)
        cluster = ",".join(f"{e.name}={e.peer_url}" for e in self.plan.etcd)
        self._spawn(member.name, [
            ETCD, "--name", member.name, "--data-dir", str(Path(member.dir) / "data"),
            "--listen-client-urls", member.client_url,
            "--advertise-client-urls", member.client_url,
            "--listen-peer-urls", member.peer_url,
            "--initial-advertise-peer-urls", member.peer_url,
            "--initial-cluster", cluster, "--initial-cluster-state", state,
            "--initial-cluster-token", self.plan.scope,
            "--log-level", "warn"], Path(member.dir) / "etcd.log")

    def _make_archive(self) -> None:
        """The WAL archive, written by whichever member leads (as ``postgres``)."""
        wal = Path(self.plan.pitr_dir) / "wal"
        wal.mkdir(parents=True, exist_ok=True)
        runs_as = _postgres_user()
        if runs_as is not None:
            shutil.chown(wal, runs_as.pw_uid, runs_as.pw_gid)
        wal.chmod(0o700)

    def _etcd_healthy(self, member: EtcdMember) -> bool:
        try:
            answer = httpx.get(f"{member.client_url}/health", timeout=1, trust_env=False)
            return bool(answer.json().get("health") == "true")
        except (httpx.HTTPError, ValueError):
            return False

    def _create_database(self) -> None:
        with psycopg.connect(self.plan.libpq_url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (DATABASE,)).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}" OWNER "{SUPERUSER}"')

    def _spawn(self, name: str, argv: list[str], log: Path, *,
               env: dict[str, str] | None = None, user: pwd.struct_passwd | None = None) -> None:
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True, cwd=log.parent,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None)
        self._spawned[name] = process
        pids = self.root / "pids"
        pids.mkdir(exist_ok=True)
        (pids / name).write_text(str(process.pid))

    def _pid(self, name: str) -> int | None:
        try:
            pid = int((self.root / "pids" / name).read_text())
        except (OSError, ValueError):
            return None
        return pid if _exists(pid) else None

    def _alive(self, name: str) -> bool:
        return self._pid(name) is not None

    def _kill(self, name: str) -> None:
        pid = self._pid(name)
        if pid is not None:
            _signal(pid, signal.SIGKILL)
        self._forget(name, pid)

    def _stop(self, name: str) -> None:
        pid = self._pid(name)
        if pid is not None:
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _exists(pid) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if _exists(pid):
                _signal(pid, signal.SIGKILL)
        self._forget(name, pid)

    def _forget(self, name: str, pid: int | None) -> None:
        """The process ``name`` ended (or is ending): collected, its pid file removed."""
        process = self._spawned.pop(name, None)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        elif pid is not None:
            _reap(pid)
        (self.root / "pids" / name).unlink(missing_ok=True)

    @staticmethod
    def _wait(ready: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.5)
        raise ClusterFailed(f"{what} within {timeout_s:.0f} s")


def free_base_port(*, members: int = 3, etcd: int = 3, tries: int = 50) -> int:
    """A ``base_port`` whose every port (PostgreSQL, REST, etcd) nobody listens on now:
    for tests and benchmarks that may run beside another cluster."""
    for _ in range(tries):
        base = random.randrange(20_000, 30_000, 10)
        ports = [base + i for i in range(members)] + [base + 100 + i for i in range(members)]
        ports += [base + 200 + i for i in range(2 * etcd)]
        try:
            for port in ports:
                with socket.socket() as probe:
                    probe.bind((HOST, port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports for a cluster")


def existing(root: Path) -> Cluster:
    """The cluster ``paywarden ha up`` started under ``root``."""
    from .plan import plan

    saved = json.loads((root / PLAN_FILE).read_text())
    first = min(int(m["postgres"].rsplit(":", 1)[1]) for m in saved["members"])
    return Cluster(plan(members=len(saved["members"]), etcd=len(saved["etcd"]),
                        base_port=first, root=root))


def _postgres_user() -> pwd.struct_passwd | None:
    """Whom Patroni runs as: ``postgres`` when this runs as root, else this user (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        raise ClusterFailed("running as root needs a 'postgres' user: apt-get install "
                            "postgresql-15") from None


def _python_for(user: pwd.struct_passwd | None) -> tuple[str, dict[str, str]]:
    """An interpreter ``user`` may run with this environment's packages importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYWARDEN_", "PG"))}
    if user is None:
        return sys.executable, env
    if _runs_as(user, sys.executable):
        return sys.executable, env
    # This interpreter lives where the postgres user may not look (/root/…): the system's
    # Python of the same version takes this environment's packages (pure and compiled
    # for the same ABI) on its path.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None or not _runs_as(user, system):
        raise ClusterFailed(f"the postgres user cannot run {sys.executable}, and there is "
                            f"no system {version}: apt-get install {version}")
    paths = sysconfig.get_paths()
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    env["HOME"] = user.pw_dir
    return system, env


def _may_write(user: pwd.struct_passwd, directory: Path) -> bool:
    return subprocess.run(["test", "-w", str(directory), "-a", "-x", str(directory)],
                          user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                          capture_output=True, timeout=30, cwd="/", check=False).returncode == 0


def _runs_as(user: pwd.struct_passwd, python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import sys"], user=user.pw_uid, group=user.pw_gid,
                              extra_groups=[], capture_output=True, timeout=30,
                              cwd="/", check=False).returncode == 0
    except OSError:
        return False


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    """Collect a child of this process that ended (else it stays a zombie, 'alive')."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    _reap(pid)
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


__all__ = ["HOST", "PG_BIN", "Cluster", "ClusterFailed", "existing"]
