"""The payments benchmark: the escrow flow against the storage's bare commit rate.

One run measures, with the same number of concurrent clients (threads, 16 by
default), each in a fresh database:

service mode (``sqlite``, ``postgresql``)
    Per client a certified merchant and a buyer with a funded wallet; each client
    repeats the escrow flow through the service layer (``Payments``): create a
    checkout, pay from the wallet, ship, confirm receipt (released). Flows/s,
    transitions/s (4 per flow; every transition that completed, also in a flow
    that failed later: ``errors`` counts those, ``errors_by_kind`` says why) and
    p50/p99/p100 per transition; then the ledger is verified.
``commit_limit_s``
    Bare one-row durable commits per second on the same storage, same clients,
    each with its own connection from ``open_database`` (the same SQLite
    settings; the same PostgreSQL server). ``over_commit_limit`` is
    transitions/s over it: the share of the storage's commit rate the payment
    path turns into transitions.
``http``
    A real ``paywarden serve`` process (SQLite by default): the same flow over
    HTTP, merchant requests signed (RFC 9421) by the SDK, the buyer's payment
    confirmed with step-up evidence from a software passkey. Then
    ``GET /health/live`` against a signed ``GET /v1/merchants/me`` on the same
    server, and the serving process's resident memory after the payments load
    (``serving_rss_mb``; ``serving_peak_rss_mb``, its high-water mark at the end).

Progress goes to stderr; the last line of stdout is one JSON object. Run it as
``python bench/payments.py [--quick]`` or ``paywarden bench payments``.
PostgreSQL: ``PAYWARDEN_BENCH_PG_URL``, else ``PAYWARDEN_TEST_PG_URL``, else a
throwaway server from ``scripts/pgtemp.py`` (see ``sites``).

Modules: ``flows`` (the one that speaks the payments API), ``parties`` (merchants,
buyers, passkeys), ``load`` (the concurrent clients), ``service``, ``limit`` and
``http_mode`` (the measurements), ``server`` (the serving process), ``sites``
(the databases), ``report`` (output), ``run`` (options and orchestration: ``main``).
"""

from __future__ import annotations

from .run import main, parse_args

__all__ = ["main", "parse_args"]
