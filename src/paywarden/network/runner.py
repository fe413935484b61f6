"""The network's processes: each node a `paywarden serve` with its own environment.

A node's environment names its data directory (its SQLite file and keys), its role and
BIC, its bank code (IBANs), and whom it talks to: a bank its hub, a hub its peer hubs.
``kill`` is SIGKILL, as a crash; ``start`` again is the recovery. Nothing here knows how
a node works inside: provisioning runs the node's own `paywarden clearing …` commands.

The commands run as their own processes (:class:`Subprocesses`), as an operator's shell
would run them. A harness that runs many may hand in a :class:`Commands` that runs the same
commands without starting a Python each time (``paywarden.cli.in_process``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from .plan import COUNTRY, Node, Plan

READY_TIMEOUT_S = 120
COMMAND_TIMEOUT_S = 180
STOP_TIMEOUT_S = 30
T = TypeVar("T")


class NodeFailed(RuntimeError):
    """A node did not start, or one of its commands failed; the message says which."""


class Commands(Protocol):
    """How a node's operator commands run, each in the node's environment ``env``."""

    def paywarden(self, env: Mapping[str, str], args: tuple[str, ...],
                  stdin: str | None) -> tuple[int, str, str]:
        """`paywarden <args>`: its exit code, standard output and standard error."""
        ...

    def call(self, env: Mapping[str, str], function: str,
             args: tuple[str, ...] = ()) -> tuple[int, str, str]:
        """``module:function(*args)`` of the node's own code, what it returns printed."""
        ...


class Subprocesses:
    """Each command a new `python -m paywarden …` (or `python -c …`) process."""

    def paywarden(self, env: Mapping[str, str], args: tuple[str, ...],
                  stdin: str | None) -> tuple[int, str, str]:
        return self._run([sys.executable, "-m", "paywarden", *args], env, stdin)

    def call(self, env: Mapping[str, str], function: str,
             args: tuple[str, ...] = ()) -> tuple[int, str, str]:
        module, name = function.split(":")
        script = f"import sys\nfrom {module} import {name}\nprint({name}(*sys.argv[1:]))"
        return self._run([sys.executable, "-c", script, *args], env, None)

    @staticmethod
    def _run(argv: list[str], env: Mapping[str, str],
             stdin: str | None) -> tuple[int, str, str]:
        done = subprocess.run(argv, env=dict(env), input=stdin, capture_output=True,
                              text=True, check=False, timeout=COMMAND_TIMEOUT_S)
        return done.returncode, done.stdout, done.stderr


class Network:
    def __init__(self, plan: Plan, *, env: Mapping[str, str] | None = None,
                 databases: Mapping[str, str] | None = None,
                 commands: Commands | None = None) -> None:
        self.plan = plan
        self._env = dict(os.environ if env is None else env)
        self._databases = dict(databases or {})  # node name -> database URL (else SQLite)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._commands = commands or Subprocesses()

    # -- environments -------------------------------------------------------------------
    def env(self, node: Node, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in self._env.items() if not k.startswith("PAYWARDEN_")
               or k in _INHERITED}
        env.update({
            "PAYWARDEN_DATA_DIR": str(node.data_dir),
            "PAYWARDEN_PORT": str(node.port),
            "PAYWARDEN_CLEARING_ROLE": node.role,
            "PAYWARDEN_CLEARING_BIC": node.bic,
            "PAYWARDEN_BANK_CODE": node.bank_code,
            "PAYWARDEN_BANK_COUNTRY": COUNTRY,
        })
        hub = self.plan.hub_of(node)
        if node.role == "bank":
            env["PAYWARDEN_CLEARING_HUB"] = f"{hub.bic}={hub.url}"
            env["PAYWARDEN_CLEARING_DIRECTORY"] = json.dumps(  # IBAN bank code -> BIC
                {COUNTRY + b.bank_code: b.bic for b in self.plan.banks})
        else:
            env["PAYWARDEN_CLEARING_PEERS"] = ",".join(
                f"{h.bic}={h.url}" for h in self.plan.hubs if h is not node)
        if node.name in self._databases:
            env["PAYWARDEN_DATABASE_URL"] = self._databases[node.name]
        env.update(extra)
        return env

    # -- processes ----------------------------------------------------------------------
    def log_path(self, node: Node) -> Path:
        return Path(self.plan.root) / f"{node.name}.log"

    def start(self, node: Node, **extra: str) -> None:
        """`paywarden serve` for ``node``, returning once it answers /health/ready."""
        if self.running(node):
            return
        Path(node.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        log = self.log_path(node).open("ab")
        try:
            # A network on loopback is for development: its nodes run this checkout's code
            # (no signed release manifest), as whoever starts it (decision 0069).
            proc = subprocess.Popen(
                [sys.executable, "-m", "paywarden", "serve", "--role", node.role,
                 "--host", "127.0.0.1", "--port", str(node.port), "--allow-unsigned",
                 "--allow-root"],
                env=self.env(node, **extra), stdout=log, stderr=log)
        finally:
            log.close()
        self._procs[node.name] = proc
        self._wait_ready(node, proc)

    def start_all(self, **extra: str) -> None:
        for nodes in (self.plan.hubs, self.plan.banks):  # hubs first: banks talk to them
            self.each(nodes, lambda n: self.start(n, **extra))

    def running(self, node: Node) -> bool:
        proc = self._procs.get(node.name)
        return proc is not None and proc.poll() is None

    def pid(self, node: Node) -> int | None:
        proc = self._procs.get(node.name)
        return proc.pid if proc is not None and proc.poll() is None else None

    def kill(self, node: Node) -> None:
        """SIGKILL: the node stops as in a power cut, mid-whatever-it-was-doing."""
        proc = self._procs.pop(node.name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)

    def wait_exit(self, node: Node, *, timeout_s: float) -> int | None:
        """The node's exit code once it has stopped by itself (a crash point), or None."""
        proc = self._procs.get(node.name)
        if proc is None:
            return None
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        self._procs.pop(node.name, None)
        return code

    def stop(self, node: Node) -> None:
        proc = self._procs.pop(node.name, None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        for node in self.plan.banks + self.plan.hubs:
            self.stop(node)

    def _wait_ready(self, node: Node, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{node.url}/health/ready", timeout=1,
                             trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
        self._procs.pop(node.name, None)
        raise NodeFailed(f"{node.name} did not start; see {self.log_path(node)}:\n"
                         + _tail(self.log_path(node)))

    # -- commands -----------------------------------------------------------------------
    def command(self, node: Node, *args: str, stdin: str | None = None) -> str:
        """Run `paywarden <args>` as ``node``'s operator; its standard output."""
        code, out, errors = self._commands.paywarden(self.env(node), args, stdin)
        if code != 0:
            raise NodeFailed(f"{node.name}: paywarden {' '.join(args)} failed "
                             f"({code}):\n{errors[-2000:]}")
        return out

    def call(self, node: Node, function: str, *args: str) -> str:
        """``module:function(*args)`` of the node's own code, run as ``node``'s operator on
        its host (what the lab does that no command does); what it returns."""
        code, out, errors = self._commands.call(self.env(node), function, args)
        if code != 0:
            raise NodeFailed(f"{node.name}: {function} failed ({code}):\n{errors[-2000:]}")
        return out.strip().splitlines()[-1] if out.strip() else ""

    def command_json(self, node: Node, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.command(node, *args, stdin=stdin))

    def each(self, nodes: Iterable[Node], work: Callable[[Node], T]) -> dict[str, T]:
        """``work(node)`` for every node at once, one thread each (each node's commands
        are its own processes); by node name, the first failure raised."""
        chosen = list(nodes)
        if not chosen:
            return {}
        with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
            futures = {n.name: pool.submit(work, n) for n in chosen}
            return {name: f.result() for name, f in futures.items()}


# Settings that every node shares with whoever runs the network (tests set these).
_INHERITED = frozenset({"PAYWARDEN_LOG_LEVEL", "PAYWARDEN_LOG_JSON",
                        "PAYWARDEN_PASSWORD_TIME_COST", "PAYWARDEN_PASSWORD_MEMORY_KIB",
                        "PAYWARDEN_INSIDER_WORKING_HOURS"})


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
