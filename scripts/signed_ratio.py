"""A quick local check: signed `GET /v1/merchants/me` against `/health/live`, same server.

    python scripts/signed_ratio.py [DATABASE_URL] [--seconds 5] [--clients 8]

Starts `paywarden serve` on a fresh data directory (SQLite there unless a URL is
given), creates a merchant on the CLI, then runs, with the same client threads
and keep-alive connections: /health/live, signed GETs, /health/live again. The
requests are signed beforehand, so the clients' signing is not measured. It
prints JSON. A smoke check, not the benchmark: bench/payments.py prints the
official "http" figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import free_port, paywarden, serving
from tests.support.merchants import Creds, new_key, public_pem, signature_headers

ME = "/v1/merchants/me"
SIGNED_PER_S_MAX = 3_000  # headers signed in advance, per second of the signed phase


def _phase(base: str, path: str, headers: list[dict[str, str]] | None, *, clients: int,
           seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=base) as http:
            j = i
            while time.monotonic() < stop and not (headers and j >= len(headers)):
                r = http.get(path, headers=headers[j] if headers else None)
                if r.status_code != 200:
                    raise SystemExit(f"{path}: {r.status_code} {r.text}")
                counts[i] += 1
                j += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url", nargs="?")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="paywarden-signed-ratio-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_LOG_LEVEL": "warning",
           "PAYWARDEN_LOG_JSON": "true", "PAYWARDEN_PUBLIC_URL": base,
           "PAYWARDEN_RATE_LIMIT_MERCHANT_KEY": "1000000/minute",
           "PAYWARDEN_RATE_LIMIT_ADDRESS": "1000000/minute"}
    if args.database_url:
        env["PAYWARDEN_DATABASE_URL"] = args.database_url
    paywarden(env, "init")
    key = new_key()
    (data / "shop.pem").write_bytes(public_pem(key))
    ids = json.loads(paywarden(env, "merchants", "create", "--name", "Shop", "--public-key",
                               str(data / "shop.pem"), "--json").stdout)
    shop = Creds(ids["merchant_id"], ids["key_id"], key)
    created_s = int(time.time())
    headers = [signature_headers(shop, "GET", ME, created_s=created_s, origin=base)
               for _ in range(int(args.seconds * SIGNED_PER_S_MAX))]
    with serving(env, port, data / "server.log"):
        run = {"clients": args.clients, "seconds": args.seconds}
        _phase(base, "/health/live", None, **run)  # warm-up
        bare = _phase(base, "/health/live", None, **run)
        signed = _phase(base, ME, headers, **run)
        bare_after = _phase(base, "/health/live", None, **run)
    print(json.dumps({"bare_rps": round(bare), "signed_get_rps": round(signed),
                      "bare_rps_after": round(bare_after),
                      "signed_over_bare": round(2 * signed / (bare + bare_after), 3)}))
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
