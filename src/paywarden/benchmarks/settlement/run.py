"""The settlement benchmark: the local two-region network under load, with kills.

``python bench/settlement.py [--quick]`` starts 2 regions of a hub and 2 banks (six
processes, six SQLite databases), provisions them, gives every bank a corporate
customer who sends pain.001 files to the other banks' customers (``--cross-share`` of
them in the other region) for ``--seconds``, while a node is SIGKILLed and restarted
every ``--kill-every-s``. Then it waits for every transfer to be final and reads every
node back:

    transfers          payments the payer banks acknowledged (a 201 in a file's answer)
    settled, returned  final at the payer bank: posted, or voided (refunded)
    lost               acknowledged but not final after the drain, or settled at the payer
                       and never credited at the payee
    duplicated         credited at a payee while the payer was refunded, or twice
    transfers_s        settled during the load, per second of load
    p50/p99/p100_ms    payer bank: from the transfer's acknowledgement to its posting
    net_positions_sum  the hubs' net positions over every unsettled window (0)
    messages_invalid   every archived message of every node, exported and decoded
                       again against the XSD: how many fail
    kills              the nodes SIGKILLed during the load

``--channel MPNS`` settles the banks' transfers net, in windows each hub closes and
settles every 2 s (RTGS, gross, by default).

By default each customer sends files as fast as its bank answers: the network's
capacity, with its latency at saturation (queued behind the backlog). ``--rate N``
offers N transfers a second on a schedule instead: the latency at that load.

The reference, in the same run: the payer banks' own acknowledgement rate
(``acknowledged_s``), what the network could be given. The last line of stdout is JSON.

The banks screen every payment as usual, except that their risk rules are published
without the two velocity rules (a tenth transfer by one customer within a minute, or to
one payee within an hour, goes to review): one corporate customer per bank sends
thousands a minute, which is the load, not a fraud. The bench publishes that rule set
with each bank's own code before it serves, as its staff would with two approvals.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from ...adapters.iso20022.codec import decode
from ...cli.in_process import InProcess
from ...domain.errors import DomainError
from ...network import Network, plan
from ...network.customers import funded
from ...network.provision import fund, initialise, liquidity, register
from .load import Tally, kill_loop, sender_loop

SECONDS_FULL, SECONDS_QUICK = 60.0, 15.0
DRAIN_S = 180.0
FUNDS = 10_000_000_00
SETTINGS = {
    "PAYWARDEN_RAIL_INTERVAL_S": "0.05", "PAYWARDEN_CLEARING_CHORE_INTERVAL_S": "0.2",
    "PAYWARDEN_CLEARING_DEADLINE_S": "30", "PAYWARDEN_PAYEE_COOLING_OFF_S": "0",
    "PAYWARDEN_RATE_LIMIT_ACCOUNT": "1000000/minute",
    "PAYWARDEN_RATE_LIMIT_ADDRESS": "1000000/minute", "PAYWARDEN_LOG_LEVEL": "warning",
    "PAYWARDEN_RISK_DEADLINE_MS": "5000", "PAYWARDEN_PAYMENT_FILES_BACKLOG_MAX": "300",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=f"{SECONDS_QUICK:g} s of load, one "
                   "kill: finishes in under 90 s of load and drain")
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--banks", type=int, default=2, help="banks per region")
    p.add_argument("--cross-share", type=float, default=0.3)
    p.add_argument("--file-size", type=int, default=100, help="payments per pain.001")
    p.add_argument("--kill-every-s", type=float, default=None)
    p.add_argument("--channel", choices=("RTGS", "MPNS"), default="RTGS", help="how the "
                   "banks' transfers settle: gross at once, or net in windows the hubs "
                   "close and settle every 2 s")
    p.add_argument("--rate", type=float, default=None, help="transfers a second offered by "
                   "all senders together (files on a schedule); default: as fast as the "
                   "banks answer, which measures capacity, not latency at a load")
    p.add_argument("--base-port", type=int, default=18300)
    p.add_argument("--workdir", type=Path, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    seconds = args.seconds or (SECONDS_QUICK if args.quick else SECONDS_FULL)
    kill_every = args.kill_every_s or seconds / (2 if args.quick else 5)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="pw-settlement-"))
    layout = plan(regions=2, banks=args.banks, base_port=args.base_port, root=root)
    net = Network(layout, commands=InProcess())  # the nodes' commands, without a Python each
    try:
        result = _run(net, args, seconds, kill_every, console)
    finally:
        net.stop_all()
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


def corporate_rules() -> str:
    """The bank's rule set without the velocity rules, published with its own code (run
    as the bank's operator: ``Network.call``); the new version."""
    from ...cli.common import open_platform, settings_from_env

    platform = open_platform(settings_from_env())
    try:
        rules = platform.risk.rules
        kept = [r for r in rules.current().rules if not r.id.startswith("velocity_")]
        return str(rules.publish(kept, actor="bench:corporate-channel").version)
    finally:
        platform.database.dispose()


def _run(net: Network, args: argparse.Namespace, seconds: float, kill_every: float,
         console: Console) -> dict[str, Any]:
    layout = net.plan
    console.log(f"provisioning {len(layout.nodes)} nodes in {layout.root}")
    initialise(net)
    net.each(layout.banks, lambda bank: net.call(bank, f"{__name__}:corporate_rules"))
    register(net, cap_minor=FUNDS * 10, channel=args.channel)
    fund(net, reserves_minor=FUNDS * 100)
    settings = {**SETTINGS, "PAYWARDEN_CLEARING_CHANNEL": args.channel,
                **({"PAYWARDEN_CLEARING_WINDOW_CYCLE_S": "2"} if args.channel == "MPNS" else {})}
    net.start_all(**settings)
    liquidity(net, liquidity_minor=FUNDS * 50)
    customers = net.each(layout.banks, lambda bank: funded(net, bank, FUNDS))
    for who in customers.values():
        for other in customers.values():
            if other is not who:
                who.add_payee(other.username[:70], other.account["iban"])
    console.log(f"load: {seconds:g} s, a kill every {kill_every:g} s")
    tally, kills = Tally(), list[str]()
    stop = threading.Event()
    rng = random.Random(14)
    threads = [threading.Thread(target=sender_loop, name=f"send-{name}", args=(
        who, [c for c in customers.values() if c is not who and c.node.region == who.node.region],
        [c for c in customers.values() if c.node.region != who.node.region]), kwargs={
        "cross_share": args.cross_share, "amount": 1, "file_size": args.file_size,
        "stop": stop, "tally": tally, "rng": random.Random(rng.random()),
        "files_s": None if args.rate is None else args.rate / args.file_size / len(customers)})
        for name, who in customers.items()]
    killer = threading.Thread(target=kill_loop, name="kills", args=(
        net, list(layout.nodes)), kwargs={"every_s": kill_every, "stop": stop, "kills": kills,
                                          "rng": rng, "extra": settings})
    started = time.time_ns()
    for t in [*threads, killer]:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in [*threads, killer]:
        t.join()
    ended = time.time_ns()
    console.log(f"{tally.transfers} transfers acknowledged in {tally.files} files; draining")
    for node in layout.nodes:
        net.start(node, **settings)  # any the killer left down
    views = _drain(net, tally, console)
    result = _measure(net, views, tally, started, ended, kills)
    result["config"] = {"regions": 2, "banks_per_region": args.banks, "seconds": seconds,
                        "cross_share": args.cross_share, "file_size": args.file_size,
                        "kill_every_s": kill_every, "rate": args.rate,
                        "channel": args.channel,
                        "storage": "sqlite per node"}
    for who in customers.values():
        who.http.close()
    return result


def _drain(net: Network, tally: Tally, console: Console) -> dict[str, Any]:
    deadline = time.monotonic() + DRAIN_S
    while True:
        views = {b.name: net.command_json(b, "clearing", "payments", "--json")
                 for b in net.plan.banks}
        open_out = sum(1 for v in views.values() for r in v["out"] if r["state"] == "sent")
        open_in = sum(1 for v in views.values() for r in v["in"] if r["state"] == "accepted")
        waiting = sum(v["pending_out"] for v in views.values())
        if not (open_out or open_in or waiting) or time.monotonic() > deadline:
            return views
        console.log(f"in flight: {open_out} out, {open_in} in, {waiting} to send")
        time.sleep(2)


def _measure(net: Network, views: dict[str, Any], tally: Tally, started: int, ended: int,
             kills: list[str]) -> dict[str, Any]:
    out = {r["movement_id"]: r for v in views.values() for r in v["out"]}
    into = {r["uetr"]: r for v in views.values() for r in v["in"]}
    settled = [r for r in out.values() if r["state"] == "settled"]
    returned = [r for r in out.values() if r["state"] == "rejected"]
    lost = sum(1 for i in tally.ids if i not in out or out[i]["state"] == "sent")
    lost += sum(1 for r in settled if into.get(r["uetr"], {}).get("state") != "settled")
    duplicated = sum(1 for r in returned if into.get(r["uetr"], {}).get("state") == "settled")
    in_window = [r for r in settled if r["updated_at"] <= ended]
    latencies = sorted((r["updated_at"] - r["created_at"]) / 1e6 for r in settled)
    seconds = (ended - started) / 1e9
    hubs = [net.command_json(h, "clearing", "positions", "--json") for h in net.plan.hubs]
    return {"transfers_s": len(in_window) / seconds,
            "p50_ms": _pct(latencies, 0.50), "p99_ms": _pct(latencies, 0.99),
            "p100_ms": latencies[-1] if latencies else None,
            "transfers": tally.transfers, "settled": len(settled), "returned": len(returned),
            "lost": lost, "duplicated": duplicated,
            "net_positions_sum": sum(h["net_positions_sum"] for h in hubs),
            "messages_invalid": _invalid_messages(net), "kills": len(kills),
            "killed": kills, "acknowledged_s": tally.transfers / seconds,
            "refused_by_banks": tally.refused, "file_retries": tally.failures,
            "verified": _verified(net)}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def _invalid_messages(net: Network) -> int:
    invalid = 0
    for node in net.plan.nodes:
        directory = Path(net.plan.root) / "export" / node.name
        net.command(node, "clearing", "export", "--dir", str(directory))
        for path in directory.glob("*.xml"):
            try:
                decode(path.read_bytes())
            except DomainError:
                invalid += 1
    return invalid


def _verified(net: Network) -> bool:
    for node in net.plan.nodes:
        for args in (("verify",), ("audit", "verify")):
            try:
                net.command(node, *args)
            except Exception:  # noqa: BLE001 - reported as a figure, the run goes on
                return False
    return True


if __name__ == "__main__":
    sys.exit(main())
