"""`paywarden demo --json`: a certified merchant, a buyer and one payment taken to released,
on a database that still verifies afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paywarden.cli import app as cli


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
    verified = runner.invoke(cli, ["verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.stdout
