"""`paywarden demo --json`: a certified merchant, a buyer and one payment taken to released,
a bank customer with a month's kind of activity, on a database that still verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from paywarden.bootstrap import Platform
from paywarden.cli import app as cli
from paywarden.cli.common import open_platform
from paywarden.settings import Settings


@contextmanager
def open_platform_at(database_url: str, data_dir: Path) -> Iterator[Platform]:
    platform = open_platform(Settings(database_url=database_url, data_dir=data_dir))
    try:
        yield platform
    finally:
        platform.stop()


def test_demo_json_makes_a_released_payment_that_verifies(database_url: str,
                                                          tmp_path: Path) -> None:
    env = {"PAYWARDEN_DATABASE_URL": database_url, "PAYWARDEN_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    result = runner.invoke(cli, ["demo", "--json"], env=env)
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout.strip().splitlines()[-1])
    assert made["state"] == "released"
    assert made["payment_id"].startswith("pay_") and made["merchant_id"].startswith("mer_")
    assert made["buyer_id"].startswith("usr_")
    assert Path(made["merchant_private_key_file"]).stat().st_mode & 0o077 == 0
    assert made["bank_customer_id"].startswith("usr_")
    assert made["current_account_id"].startswith("acc_")
    # salary 2,500.00 in; rent 900.00 out (the rail confirmed it), 300.00 saved, 50.00 to the
    # wallet, 42.50 to a friend, a 15.00 cheque the friend presented
    with open_platform_at(database_url, tmp_path) as platform:
        current = platform.banking.accounts.get(made["current_account_id"])
        assert current is not None and current.user_id == made["bank_customer_id"]
        assert platform.banking.accounts.balance(current) == {"booked": 1_192_50,
                                                              "available": 1_192_50}
        cheque = platform.cheques.get_for(made["bank_customer_id"], made["cheque_id"])
        assert str(cheque.state) == "paid"
        order, _ = platform.banking.standing_orders.get_for(made["bank_customer_id"],
                                                            made["standing_order_id"])
        assert order.state == "active" and order.amount.amount_minor == 25_00
    verified = runner.invoke(cli, ["verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.stdout
