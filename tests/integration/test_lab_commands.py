"""The network lab's two ways of running a node's commands answer alike: as processes
(an operator's shell) and inside the caller (`paywarden network up`, the tests and the
benchmark)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from paywarden.cli.in_process import InProcess
from paywarden.network import Network, plan
from paywarden.network.runner import NodeFailed, Subprocesses


def _net(root: Path, commands: InProcess | Subprocesses) -> Network:
    return Network(plan(regions=1, banks=1, base_port=18990, root=root), commands=commands)


def test_a_command_run_here_answers_as_its_own_process_does(tmp_path: Path) -> None:
    here, there = _net(tmp_path, InProcess()), _net(tmp_path, Subprocesses())
    bank = here.plan.banks[0]
    here.command(bank, "init")

    mine = here.command_json(bank, "clearing", "identity", "--json")
    theirs = there.command_json(bank, "clearing", "identity", "--json")

    assert mine == theirs
    assert mine["bic"] == bank.bic and "BEGIN PUBLIC KEY" in mine["public_key_pem"]


def test_a_refused_command_fails_here_with_its_code_and_words(tmp_path: Path) -> None:
    here = _net(tmp_path, InProcess())
    bank = here.plan.banks[0]
    here.command(bank, "init")
    before = dict(os.environ)

    with pytest.raises(NodeFailed) as refused:  # its key file is not there
        here.command(bank, "clearing", "participants", "add", "--bic", "PWZZNL2A",
                     "--name", "z", "--url", "http://127.0.0.1:1", "--role", "participant",
                     "--currency", "EUR", "--public-key-file", str(tmp_path / "none.pem"),
                     "--json")

    assert "failed" in str(refused.value) and bank.name in str(refused.value)
    assert dict(os.environ) == before  # the node's environment was the command's alone


def test_a_lab_function_runs_as_the_node_operator(tmp_path: Path) -> None:
    for commands in (InProcess(), Subprocesses()):
        net = _net(tmp_path / type(commands).__name__, commands)
        bank = net.plan.banks[0]
        net.command(bank, "init")
        token = net.call(bank, "paywarden.testing.lab:service_token")
        assert len(token) > 20 and json.dumps(token) == f'"{token}"'
