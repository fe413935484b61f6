"""CPU per provider compute(): a platform on a scratch SQLite file, one customer with a
payee, each provider timed with time.process_time over N screenings' contexts."""
import sys
import tempfile
import time
from pathlib import Path

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import open_database
from paywarden.bootstrap import build
from paywarden.services.risk import Context, Subject
from paywarden.services.risk.sanctions import SAMPLE_LIST
from paywarden.settings import Settings

tmp = Path(tempfile.mkdtemp())
url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/p.db"
s = Settings(database_url=url, data_dir=tmp, public_url="https://bank.example")
clock = FakeClock(1_767_225_600 * 10**9)
db = open_database(url); db.migrate()
p = build(s, clock=clock, database=db)
p.start()
p.sanctions.load(SAMPLE_LIST, actor="cli:bench")
subj = Subject(operation="bank.external", object_id="m1", kind="external", user_id="usr_x",
               amount_minor=12_00, currency="EUR", account_id="acc_x",
               counterparty="DE89370400440532013000", counterparty_name="Jane Example",
               merchant_id="mer_x", card_bin="411111", card_fingerprint="ab" * 16)
N = 2000
with p.database.engine.connect() as conn:
    for prov in p.risk.providers:
        for _ in range(50):
            prov.compute(Context(conn, subj, clock.now_ns(), keys=["customer:usr_x", "payee:x"]))
        t0 = time.process_time(); w0 = time.perf_counter()
        for _ in range(N):
            prov.compute(Context(conn, subj, clock.now_ns(), keys=["customer:usr_x", "payee:x"]))
        cpu = (time.process_time() - t0) / N * 1e6; wall = (time.perf_counter() - w0) / N * 1e6
        print(f"{type(prov).__name__:15s} cpu_us={cpu:7.1f} wall_us={wall:7.1f}")
p.stop()
