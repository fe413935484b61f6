"""The ledger benchmark: engine throughput against the storage limit and a peer.

One run measures, on SQLite and on PostgreSQL, each in a fresh database:

``engine``
    N transfers between random distinct accounts, submitted in batches of
    8,190 by a feeder that keeps a few submissions in flight, so the writer
    thread is never idle. Transfers/s and the latency of each submitted batch
    (submit to result).
``hot``
    The same, but every transfer debits one single account.
``limit``
    The rate of a bare ``executemany`` of the very row tuples the engine
    writes (21 columns, built by the same domain code) into a plain table (no
    keys, no indexes, no constraints) in batches of 8,190 rows per
    transaction, with the same durability: SQLite through the same
    ``open_database`` connection (WAL, ``synchronous=FULL``), PostgreSQL with
    psycopg's ``cursor.executemany`` and default ``synchronous_commit``.
``limit_indexed``
    The same into a table with the primary key and unique index of the real
    ``transfers`` table (foreign keys left out).
``hordak`` (PostgreSQL only)
    django-hordak 2.x, the peer: a smaller run of the same random transfers,
    each one ``Account.transfer_to`` (one ``Transaction`` and two ``Leg`` rows
    in ``transaction.atomic()``), in its own database on the same server.

After every engine run all results must be ``ok`` and the debits must equal the
credits (sums over ``accounts``) and the transfers' amounts.

Progress goes to stderr; the last line of stdout is one JSON object. Run it as
``python bench/ledger.py [--quick]`` or ``paywarden bench ledger``.

PostgreSQL comes from ``PAYWARDEN_BENCH_PG_URL`` (its ``public`` schema is
dropped and recreated for each measurement, so point it at a scratch
database) or else from a throwaway server started with ``scripts/pgtemp.py``.

Modules: ``workload`` (the transfers), ``engine_run`` (the engine measured),
``limit`` (the bare insert reference), ``hordak`` (the peer), ``sites`` (the
databases), ``provenance`` (what was measured), ``progress`` and ``report``
(output), ``run`` (options, plan and orchestration: ``main``).
"""

from __future__ import annotations

from .run import main, parse_args

__all__ = ["main", "parse_args"]
