"""The failover benchmark's world: a fresh cluster, a database on it, the parties, and two
``paywarden serve`` processes sharing it behind one public origin (as behind a load
balancer)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...api.ids import account_id_to_str
from ...ha import Cluster, plan
from ...services.identity.tokens import issue_service_token
from ...services.ledger import NewAccount
from ...services.ledger.currencies import currency
from ..payments.parties import (
    CURRENCY,
    Shopper,
    enrolment_token,
    make_shoppers,
    operator_platform,
)
from ..payments.server import Server, free_port, server_env, serving
from .load import LedgerAccounts

RP_ID = "localhost"
LEDGER_ACCOUNTS = 16
SERVICE_AMOUNT_MAX = 1_000
TOKEN_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Parties:
    shoppers: list[tuple[Shopper, str]]  # with each buyer's enrolment token
    token: str  # the ledger writers' service token
    accounts: LedgerAccounts


def start_cluster(root: Path, base_port: int) -> Cluster:
    cluster = Cluster(plan(members=3, etcd=3, base_port=base_port, root=root / "cluster"))
    cluster.up()
    return cluster


def prepare(url: str, data_dir: Path, public_url: str, buyers: int) -> Parties:
    """The schema, then through the services: merchants and funded buyers, a service token
    and ledger accounts without balance limits."""
    with operator_platform(url, data_dir, public_url, RP_ID) as platform:
        shoppers = [(s, enrolment_token(platform, s.buyers[0]))
                    for s in make_shoppers(platform, buyers, buyers_each=1)]
        token = issue_service_token(platform.database, platform.sessions, name="ha-bench",
                                    ttl_s=TOKEN_TTL_S, ttl_s_max=TOKEN_TTL_S,
                                    actor="cli:bench", now_ns=platform.clock.now_ns(),
                                    amount_max=SERVICE_AMOUNT_MAX).token
        ids = [secrets.randbits(62) + 1 for _ in range(LEDGER_ACCOUNTS)]
        platform.engine.wait(platform.engine.create_accounts(
            [NewAccount(i, currency(CURRENCY).number, 1) for i in ids]))
    return Parties(shoppers, token, LedgerAccounts([account_id_to_str(i) for i in ids],
                                                   CURRENCY))


def public_origin(ports: list[int]) -> str:
    """The origin both processes serve (the first one's, as one load balancer's)."""
    return f"http://{RP_ID}:{ports[0]}"


def ports() -> list[int]:
    return [free_port(), free_port()]


@contextlib.contextmanager
def two_servers(url: str, patroni_urls: str, data_dir: Path, logs: Path, ports: list[int]
                ) -> Iterator[list[Server]]:
    """Two API processes on one cluster and one data dir (its keys)."""
    public_url = public_origin(ports)
    env = {**server_env(database_url=url, data_dir=data_dir, public_url=public_url,
                        rp_id=RP_ID),
           "PAYWARDEN_PATRONI_URLS": patroni_urls, "PAYWARDEN_LOG_JSON": "true"}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serving(env, port=port,
                                               public_url=f"http://127.0.0.1:{port}",
                                               log_path=logs / f"serve-{i + 1}.log"))
                   for i, port in enumerate(ports)]
        yield servers
