#!/usr/bin/env python3
"""The ISO 20022 codec's CPU cost per transaction: encode, decode, validate, sign, verify.

``python bench/iso20022_codec.py [--rounds N]`` from the repository root. Builds a
pacs.008 of 1 and of 100 credit transfers (and the pacs.002 answering them) and times,
in process CPU time (``time.process_time``: steadier than wall time on a shared machine),
each step the network takes per message:

    encode        value -> dict -> lxml tree -> XSD validation -> bytes
    decode        bytes -> safe parse (defusedxml prolog + lxml) -> XSD validation -> value
    validate      the XSD validation alone (lxml XMLSchema), on a parsed tree
    sign, verify  Ed25519 over the message's bytes (decision 0053)
    xmlschema_*   for comparison: xmlschema's own encode and decode of the same document
                  (``validation="skip"``), which the codec does not use at run time

and prints one JSON line: per size, each step's milliseconds per message and per
transaction, and ``codec_ms_per_tx`` (encode + decode, each including validation), the
figure the issue's 1,000 transfers/s on 2 cores needs well under 0.2 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paywarden.adapters.iso20022 import codec, namespace, schema
from paywarden.adapters.iso20022.safe import parse
from paywarden.adapters.iso20022.signatures import sign, verify
from paywarden.domain.clearing.messages import (
    Channel,
    CreditTransfer,
    Header,
    MessageType,
    Pacs002,
    Pacs008,
    Party,
    Status,
    TxStatus,
)
from paywarden.domain.money import Money

NS_PER_MS = 1_000_000
AT_NS = 1_796_040_000_123 * NS_PER_MS
PAYER, HUB, PAYEE = "PAYRDEFFXXX", "HUBBDEFFXXX", "PAYEFRPPXXX"
SIZES = (1, 100)
ROUNDS_CPU_S = 0.4  # each step runs until it has used this much CPU (at least 3 rounds)


def pacs008(transactions: int) -> Pacs008:
    return Pacs008(Header("MSG-1", AT_NS, PAYER, HUB), tuple(CreditTransfer(
        uetr=f"{n:08x}-8c1e-4e8b-9d6a-0b1e2f3a4b5c", end_to_end_id=f"E2E-{n}",
        tx_id=f"TX-{n}", amount=Money(1234 + n, "EUR"),
        debtor=Party("Alice Payer", "DE89370400440532013000", PAYER),
        creditor=Party("Bob Payee", "FR1420041010050500013M02606", PAYEE),
        deadline_ns=AT_NS + 30_000 * NS_PER_MS, channel=Channel.RTGS,
        remittance=f"invoice {n}") for n in range(transactions)))


def pacs002(request: Pacs008) -> Pacs002:
    return Pacs002(Header("ANS-1", AT_NS, HUB, PAYER), request.header.msg_id,
                   MessageType.PACS_008, tuple(
                       TxStatus(t.uetr, t.end_to_end_id, t.tx_id, Status.ACSC)
                       for t in request.transfers))


def cpu_ms(step: Callable[[], Any], rounds_min: int) -> float:
    """Milliseconds of process CPU time per call of ``step``."""
    step()  # warm: caches, compiled schemas
    rounds, start = 0, time.process_time()
    while rounds < rounds_min or time.process_time() - start < ROUNDS_CPU_S:
        step()
        rounds += 1
    return (time.process_time() - start) * 1000 / rounds


def measure(transactions: int, *, rounds_min: int, compare: bool) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    message = pacs008(transactions)
    body = codec.encode(message)
    signature = sign(key, PAYER, body)
    root = parse(body)
    answer = codec.encode(pacs002(message))
    steps: dict[str, Callable[[], Any]] = {
        "encode": lambda: codec.encode(message), "decode": lambda: codec.decode(body),
        "validate": lambda: codec.validate(root, MessageType.PACS_008),
        "sign": lambda: sign(key, PAYER, body),
        "verify": lambda: verify(key.public_key(), PAYER, body, signature),
        "pacs002_decode": lambda: codec.decode(answer)}
    if compare:
        kind, data = codec.document(message)
        ns = namespace(kind.value)
        xsd = schema(kind.value)
        steps["xmlschema_encode"] = lambda: xsd.encode(
            {"@xmlns": ns, **data}, path=f"{{{ns}}}Document", namespaces={"": ns},
            validation="skip")
        steps["xmlschema_decode"] = lambda: xsd.to_dict(root, validation="skip")
    figures: dict[str, Any] = {"transactions": transactions, "bytes": len(body)}
    for name, step in steps.items():
        ms = cpu_ms(step, rounds_min)
        figures[f"{name}_ms"] = round(ms, 4)
        figures[f"{name}_ms_per_tx"] = round(ms / transactions, 4)
    figures["codec_ms_per_tx"] = round(
        figures["encode_ms_per_tx"] + figures["decode_ms_per_tx"], 4)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="at least this many calls")
    parser.add_argument("--no-xmlschema", action="store_true",
                        help="skip the xmlschema comparison (it is slow)")
    args = parser.parse_args()
    results = {f"tx_{n}": measure(n, rounds_min=args.rounds, compare=not args.no_xmlschema)
               for n in SIZES}
    print(json.dumps({"clock": "process_time", **results}))


if __name__ == "__main__":
    main()
