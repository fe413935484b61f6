"""The peer: django-hordak 2.x on the same PostgreSQL server, one transfer at a time."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

from rich.progress import Progress

from ...domain.ledger import Transfer
from .provenance import dist_version
from .sites import PostgresSite
from .workload import CURRENCY, EXPONENT


def _django_setup(url: str, schema: str | None) -> None:
    import django
    from django.conf import settings
    from sqlalchemy.engine import make_url

    if settings.configured:
        raise RuntimeError(
            "Django is already configured in this process; run the benchmark "
            "in a fresh process to measure hordak"
        )
    u = make_url(url)
    options: dict[str, Any] = {}
    if schema:
        options["options"] = f"-c search_path={schema}"
    settings.configure(
        DEBUG=False,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": u.database,
                "USER": u.username or "",
                "PASSWORD": u.password or "",
                "HOST": u.host or "",
                "PORT": str(u.port or ""),
                "OPTIONS": options,
                "CONN_MAX_AGE": None,
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "mptt",
            "djmoney",
            "hordak",
        ],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DEFAULT_CURRENCY=CURRENCY,
        CURRENCIES=[CURRENCY],
        HORDAK_DECIMAL_PLACES=EXPONENT,
        LOGGING_CONFIG=None,
        SECRET_KEY=secrets.token_urlsafe(32),  # required by Django, unused here
    )
    django.setup()


def measure_hordak(
    site: PostgresSite, transfers: list[Transfer], threads: int, progress: Progress
) -> dict[str, Any]:
    from decimal import Decimal

    with site.separate_database("hordak") as (url, schema):
        _django_setup(url, schema)
        from django.core.management import call_command
        from django.db import connections, transaction
        from djmoney.money import Money
        from hordak.models import Account as HAccount
        from hordak.models import AccountType, Leg
        from hordak.models import Transaction as HTransaction

        try:
            task = progress.add_task("postgresql hordak migrate", total=None)
            call_command("migrate", verbosity=0, interactive=False)
            progress.update(task, total=1, completed=1)
            progress.stop_task(task)

            wanted = sorted(
                {t.debit_account_id for t in transfers} | {t.credit_account_id for t in transfers}
            )
            accounts: dict[int, Any] = {}
            task = progress.add_task("postgresql hordak accounts", total=len(wanted))
            with transaction.atomic():
                # Ascending zero-padded codes: each new root tree goes last in MPTT order.
                for i in wanted:
                    accounts[i] = HAccount.objects.create(
                        name=f"account {i}",
                        code=f"{i:06d}",
                        type=AccountType.asset,
                        currencies=[CURRENCY],
                    )
                    progress.advance(task)
            progress.stop_task(task)
            scale = Decimal(1).scaleb(-EXPONENT)

            def run(chunk: Sequence[Transfer], task: Any) -> None:
                # Account instances are only read (their pk): safe to share across threads,
                # each of which uses its own Django connection.
                try:
                    for t in chunk:
                        # transfer_to credits self and debits the other account.
                        accounts[t.credit_account_id].transfer_to(
                            accounts[t.debit_account_id],
                            Money(Decimal(t.amount or 0) * scale, CURRENCY),
                            description=t.id,
                        )
                        progress.advance(task)
                finally:
                    if threading.current_thread() is not threading.main_thread():
                        connections.close_all()

            out: dict[str, Any] = {"transfers": len(transfers), "accounts": len(wanted)}
            half = len(transfers) // 2 if threads > 1 else len(transfers)
            sequential, concurrent = transfers[:half], transfers[half:]

            task = progress.add_task("postgresql hordak 1 thread", total=len(sequential))
            started = time.perf_counter()
            run(sequential, task)
            elapsed = time.perf_counter() - started
            progress.stop_task(task)
            out["tps"] = len(sequential) / elapsed
            out["sequential_transfers"] = len(sequential)

            if concurrent:
                task = progress.add_task(
                    f"postgresql hordak {threads} threads", total=len(concurrent)
                )
                chunks = [concurrent[k::threads] for k in range(threads)]
                errors: list[BaseException] = []

                def worker(chunk: Sequence[Transfer]) -> None:
                    try:
                        run(chunk, task)
                    except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                        errors.append(exc)

                workers = [threading.Thread(target=worker, args=(c,)) for c in chunks]
                started = time.perf_counter()
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                elapsed = time.perf_counter() - started
                progress.stop_task(task)
                if errors:
                    raise errors[0]
                out["concurrent_tps"] = len(concurrent) / elapsed
                out["concurrent_transfers"] = len(concurrent)
                out["threads"] = threads

            total = sum(t.amount or 0 for t in transfers)
            debit_sum, credit_sum = Leg.objects.sum_to_debit_and_credit()
            count = HTransaction.objects.count()
            legs = Leg.objects.count()
            d = debit_sum.monies()[0].amount if debit_sum.monies() else Decimal(0)
            c = credit_sum.monies()[0].amount if credit_sum.monies() else Decimal(0)
            if (
                count != len(transfers)
                or legs != 2 * len(transfers)
                or d != c
                or d != Decimal(total) * scale
            ):
                raise AssertionError(
                    f"hordak verification failed: {count} transactions, {legs} legs, "
                    f"debits {d}, credits {c}, expected {Decimal(total) * scale}"
                )
            out["verified"] = {
                "transactions": count,
                "legs": legs,
                "debits": str(d),
                "credits": str(c),
            }
            out["versions"] = {
                "django": dist_version("django"),
                "django_hordak": dist_version("django-hordak"),
            }
            return out
        finally:
            connections.close_all()
