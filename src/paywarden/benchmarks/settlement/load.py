"""The load: each bank's corporate customer sends payment files (pain.001) of transfers
to customers of other banks, a share of them in the other region, as fast as its bank
answers, while a schedule SIGKILLs nodes and starts them again.

A file that fails (its bank or hub was killed mid-way) is sent again, the same bytes:
the bank answers what ran and runs the rest, so no transfer is made twice.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from ...adapters.iso20022.codec import encode
from ...domain.clearing.messages import Channel, CreditTransfer, Pain001, Party
from ...domain.money import Money
from ...network import Network, Node
from ...network.customers import Customer
from ...network.runner import NodeFailed

DEADLINE_S = 30
RETRY_PAUSE_S = 0.5


@dataclass
class Tally:
    files: int = 0
    transfers: int = 0  # accepted by the payer bank: acknowledged to the customer
    refused: int = 0  # a payment the bank refused in an answered file (limits, screening)
    failures: int = 0  # a file's attempt that failed (a killed node), then sent again
    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def payment_file(sender: Customer, targets: list[Customer], *, amount: int,
                 count: int) -> bytes:
    now = time.time_ns()
    debtor = Party(sender.username[:70], sender.account["iban"], sender.node.bic)
    payments = []
    for i in range(count):
        to = targets[i % len(targets)]
        payments.append(CreditTransfer(
            str(uuid.uuid4()), f"E{secrets.token_hex(8)}", f"T{i}", Money(amount, "EUR"),
            debtor, Party(to.username[:70], to.account["iban"], to.node.bic),
            now + DEADLINE_S * 1_000_000_000, Channel.RTGS, "bench"))
    return encode(Pain001("F" + secrets.token_hex(12), now, sender.username[:70], debtor,
                          tuple(payments)))


def sender_loop(sender: Customer, near: list[Customer], far: list[Customer], *,
                cross_share: float, amount: int, file_size: int, stop: threading.Event,
                tally: Tally, rng: random.Random, files_s: float | None = None) -> None:
    """Send files until ``stop``, as fast as the bank answers, or ``files_s`` a second
    (an offered load, on a schedule: a file late is sent at once, never two to catch up);
    every file is sent until its bank answers it."""
    due = time.monotonic()
    while not stop.is_set():
        if files_s is not None:
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            due = max(due + 1 / files_s, time.monotonic())
        targets = [rng.choice(far) if far and rng.random() < cross_share
                   else rng.choice(near or far) for _ in range(file_size)]
        document = payment_file(sender, targets, amount=amount, count=file_size)
        while True:
            try:
                answer = sender.send_file(document)
                break
            except (NodeFailed, OSError, httpx.TransportError):
                with tally.lock:
                    tally.failures += 1
                time.sleep(RETRY_PAUSE_S)  # its node is down: the same file again
        made = [r["transfer"]["id"] for r in answer["results"] if r["transfer"]]
        with tally.lock:
            tally.files += 1
            tally.transfers += len(made)
            tally.refused += len(answer["results"]) - len(made)
            tally.ids.extend(made)


def kill_loop(net: Network, victims: list[Node], *, every_s: float, stop: threading.Event,
              kills: list[str], rng: random.Random, extra: dict[str, str]) -> None:
    """SIGKILL one node every ``every_s`` seconds and start it again at once."""
    while not stop.wait(every_s):
        node = rng.choice(victims)
        net.kill(node)
        kills.append(node.name)
        net.start(node, **extra)
