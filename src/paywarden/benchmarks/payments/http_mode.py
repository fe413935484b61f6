"""HTTP mode: a real ``paywarden serve`` process, driven by as many clients as service mode.

1. Set up (in this process, before the server starts): a fresh database, per
   client a certified merchant and a pool of buyers with funded wallets and enrolment
   sessions. Then the server starts; each buyer registers a passkey and signs in.
2. The escrow flow over HTTP: signed merchant requests (checkout, shipment), the
   buyer's step-up ceremony with its software authenticator, pay, confirm.
3. The server's resident memory, right after that load.
4. Once the server is idle again, ``GET /health/live`` (no authentication, no
   database) and a signed ``GET /v1/merchants/me``, with the same clients, in
   four phases of half the time each: bare, signed, signed, bare. What
   verifying a signature costs against the bare endpoint of the same server;
   the ABBA order cancels a drift in the machine's speed during the run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from ...adapters.store import open_database
from ...client import PayWardenClient
from ...services.ledger.verify import verify_ledger
from .flows import http_flow
from .load import LoadResult, Recorder, Unit, run_clients, summary
from .parties import (
    REQUEST_TIMEOUT_S,
    Buyer,
    Shopper,
    SignedInBuyer,
    buyers_needed,
    enrolment_token,
    make_shoppers,
    operator_platform,
    passkey_sign_in,
)
from .server import Server, free_port, server_env, serving

RP_ID = "localhost"  # a browser takes no IP address as a WebAuthn relying party
FLOWS_S_CEILING = 80  # all clients together: several times what one server has answered


def _prepare(url: str, data_dir: Path, public_url: str, clients: int,
             buyers_each: int) -> list[tuple[Shopper, list[tuple[Buyer, str]]]]:
    with operator_platform(url, data_dir, public_url, RP_ID) as platform:
        return [(s, [(b, enrolment_token(platform, b)) for b in s.buyers])
                for s in make_shoppers(platform, clients, buyers_each=buyers_each)]


def _signed_in(public_url: str, prepared: list[tuple[Shopper, list[tuple[Buyer, str]]]],
               clients: int) -> list[list[SignedInBuyer]]:
    """Every buyer registers its passkey and signs in, ``clients`` at a time."""
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [list(pool.map(lambda b: passkey_sign_in(public_url, RP_ID, *b), buyers))
                for _, buyers in prepared]


def _rps(result: LoadResult) -> float:
    return result.units / result.seconds


def _joined(a: LoadResult, b: LoadResult) -> LoadResult:
    recorded = Recorder()
    recorded.merge(a.recorded)
    recorded.merge(b.recorded)
    kinds = dict(a.error_kinds)
    for kind, count in b.error_kinds.items():
        kinds[kind] = kinds.get(kind, 0) + count
    return LoadResult(clients=a.clients, seconds=a.seconds + b.seconds, units=a.units + b.units,
                      recorded=recorded, errors=a.errors + b.errors, error_kinds=kinds)


def _gets(server: Server, shoppers: list[Shopper], *, signed: bool, seconds: float,
          progress: Progress, label: str) -> LoadResult:
    closers: list[Any] = []
    units: list[Unit] = []
    for shopper in shoppers:
        get: Callable[[], Any]
        if signed:
            sdk = PayWardenClient(server.base_url, shopper.key_id, shopper.key,
                                  timeout_s=REQUEST_TIMEOUT_S, retries_max=0)
            closers.append(sdk)
            get = sdk.me
        else:
            http = httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_S)
            closers.append(http)
            get = _bare(http)
        units.append(_repeat(get))
    try:
        return run_clients(units, seconds=seconds, warmup_units=2, progress=progress,
                           label=label)
    finally:
        for c in closers:
            c.close()


def _repeat(get: Callable[[], Any]) -> Unit:
    def unit(rec: Recorder) -> None:
        rec.transition("get", get)

    return unit


def _bare(http: httpx.Client) -> Callable[[], None]:
    def get() -> None:
        http.get("/health/live").raise_for_status()

    return get


def measure_http(url: str, data_dir: Path, *, clients: int, seconds: float, warmup_flows: int,
                 progress: Progress, log_path: Path) -> dict[str, Any]:
    port = free_port()
    public_url = f"http://{RP_ID}:{port}"
    prepared = _prepare(url, data_dir, public_url, clients, buyers_needed(
        seconds=seconds, warmup_flows=warmup_flows, flows_s_max=FLOWS_S_CEILING / clients))
    shoppers = [s for s, _ in prepared]
    env = server_env(database_url=url, data_dir=data_dir, public_url=public_url, rp_id=RP_ID)
    with serving(env, port=port, public_url=public_url, log_path=log_path) as server:
        buyers = _signed_in(public_url, prepared, clients)
        made = [http_flow(public_url, s, b) for s, b in zip(shoppers, buyers, strict=True)]
        try:
            flows = run_clients([unit for unit, _ in made], seconds=seconds,
                                warmup_units=warmup_flows, progress=progress,
                                label="http: escrow flows")
        finally:
            for _, closers in made:
                for c in closers:
                    c.close()
        after_flows = server.memory_mb()
        settled_s = server.settle()

        def phase(signed: bool, n: int) -> LoadResult:
            label = "signed GET /v1/merchants/me" if signed else "GET /health/live"
            return _gets(server, shoppers, signed=signed, seconds=seconds / 2,
                         progress=progress, label=f"http: {label} ({n} of 2)")

        bare_1, signed_1, signed_2, bare_2 = (
            phase(False, 1), phase(True, 1), phase(True, 2), phase(False, 2))
        bare, signed = _joined(bare_1, bare_2), _joined(signed_1, signed_2)
        at_end = server.memory_mb()
    database = open_database(url)
    try:
        violations = verify_ledger(database)
    finally:
        database.dispose()
    bare_rps, signed_rps = _rps(bare), _rps(signed)
    return {
        **summary(flows, unit_name="flows"),
        "bare_rps": bare_rps,
        "signed_get_rps": signed_rps,
        "signed_over_bare": signed_rps / bare_rps if bare_rps else None,
        "bare_p99_ms": summary(bare, unit_name="requests")["p99_ms"],
        "signed_get_p99_ms": summary(signed, unit_name="requests")["p99_ms"],
        "get_errors": bare.errors + signed.errors,
        "get_errors_by_kind": {"bare": bare.error_kinds, "signed": signed.error_kinds},
        "get_seconds": {"bare": bare.seconds, "signed": signed.seconds},
        "get_order": "bare, signed, signed, bare; half the time each",
        "settled_before_gets_s": round(settled_s, 2),
        "serving_rss_mb": after_flows["rss_mb"],
        "serving_peak_rss_mb": at_end["peak_rss_mb"],
        "verified": not violations,
    }
