"""A node's operator commands run inside this process: the faster
:class:`paywarden.network.runner.Commands` of `paywarden network up`, the network tests and
the settlement benchmark.

`paywarden network up`, the tests and the benchmark provision and read a network with the
nodes' own commands. As processes (the default) each one starts Python and imports the
platform again (~3 s of CPU on the 2-core machine, for a command whose work takes
milliseconds); a benchmark that must finish in 90 s cannot pay that forty times. Here the
same Typer commands run in this process, one at a time, each in its node's environment:
the same code and the same settings, read from the same variables, the platform built
and disposed by the command as it would be in its own process.

One at a time because ``os.environ``, standard input and output and the logging set-up
(which a command makes its own) are the process's.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout

_ONE_AT_A_TIME = threading.Lock()


class InProcess:
    """Commands as calls: exit code, standard output and standard error, as a process's."""

    def paywarden(self, env: Mapping[str, str], args: tuple[str, ...],
                  stdin: str | None) -> tuple[int, str, str]:
        from . import app

        return _here(env, stdin, lambda: app(list(args), prog_name="paywarden",
                                             standalone_mode=False))

    def call(self, env: Mapping[str, str], function: str,
             args: tuple[str, ...] = ()) -> tuple[int, str, str]:
        module, name = function.split(":")

        def run() -> None:
            print(getattr(importlib.import_module(module), name)(*args))

        return _here(env, None, run)


def _here(env: Mapping[str, str], stdin: str | None,
          work: Callable[[], object]) -> tuple[int, str, str]:
    out, errors = io.StringIO(), io.StringIO()
    with _ONE_AT_A_TIME, _environment(env), _logging(), _stdin(stdin), \
            redirect_stdout(out), redirect_stderr(errors):
        try:
            answer = work()
            code = answer if isinstance(answer, int) else 0  # click: a typer.Exit's code
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # noqa: BLE001 - a process would die of it: exit code
            traceback.print_exc()
            code = int(getattr(exc, "exit_code", 1))
    return code, out.getvalue(), errors.getvalue()


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    kept = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(kept)


@contextmanager
def _logging() -> Iterator[None]:
    import structlog

    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)


@contextmanager
def _stdin(text: str | None) -> Iterator[None]:
    kept = sys.stdin
    sys.stdin = io.StringIO(text or "")
    try:
        yield
    finally:
        sys.stdin = kept
