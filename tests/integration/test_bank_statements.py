"""Statements on SQLite and PostgreSQL: every format adds up to the ledger, camt.053 is
valid against the official XSD, each carries an audit proof under a signed tree head,
and a statement changed after issue fails verification."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.iso20022 import CAMT_053, xsd_path
from paywarden.adapters.store import Database
from paywarden.bootstrap import Platform, build
from paywarden.services.banking.history import Side, day_end_ns, day_start_ns
from paywarden.services.banking.statements import FORMATS, camt053, csv_format, pdf
from paywarden.services.banking.statements.issue import StatementAccount, issue
from paywarden.services.banking.statements.seal import Sealed
from paywarden.services.banking.statements.verify import keys_from_jwks, verify
from tests.support.banking_ledger import ALICE, month_of_activity, open_accounts
from tests.support.identity import settings_for

SHARED_XSD = Path(__file__).parents[3] / "shared" / "iso20022" / "camt.053.001.08.xsd"
ACCOUNT = StatementAccount(account_id="acc_0123456789abcdef01234567",
                           iban="DE89370400440532013000", owner_name="Alice Example",
                           product="current", currency="EUR", ledger_account_id=ALICE,
                           side=Side.CREDIT_NORMAL)
JAN = (date(2026, 1, 1), date(2026, 1, 31))


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    p = build(settings_for(database, tmp_path), clock=clock, database=database)
    p.queries.create_ledger("EUR", now_ns=clock.now_ns())
    p.engine.start()
    open_accounts(p.engine)
    month_of_activity(p.engine, clock)
    clock.advance(40 * 86_400)
    yield p
    p.engine.stop()


def issued(platform: Platform, period: tuple[date, date] = JAN) -> Sealed:
    return issue(platform.database, platform.keys, platform.tree_heads, ACCOUNT, *period,
                 actor="usr_alice", now_ns=platform.clock.now_ns())


def posted(platform: Platform, at_ns: int) -> int:
    b = platform.queries.balances_as_of(ALICE, at_ns)
    return 0 if b is None else b.credits_posted - b.debits_posted


def minor(text: str | Decimal) -> int:
    return int(Decimal(text) * 100)


def from_csv(data: bytes) -> tuple[int, list[int], int]:
    rows = [r for r in csv.reader(io.StringIO(data.decode(), newline=""))]
    opening = minor(next(r[7] for r in rows if r[0] == "opening"))
    closing = minor(next(r[7] for r in rows if r[0] == "closing"))
    return opening, [minor(r[5]) for r in rows if r[0] == "entry"], closing


def from_camt(data: bytes) -> tuple[int, list[int], int]:
    # The official schema in ../shared when it is beside this checkout (a fresh clone in CI
    # may have none); else the package's copy, which the test below holds to the same bytes.
    official = SHARED_XSD if SHARED_XSD.exists() else xsd_path(CAMT_053)
    xsd = xmlschema.XMLSchema10(str(official))
    xsd.validate(data.decode())
    stmt = xsd.to_dict(data.decode(), namespaces={"": camt053._NS})["BkToCstmrStmt"]["Stmt"][0]

    def signed(node: dict) -> int:  # type: ignore[type-arg]
        value = minor(node["Amt"]["$"])
        return value if node["CdtDbtInd"] == "CRDT" else -value

    balances = {b["Tp"]["CdOrPrtry"]["Cd"]: signed(b) for b in stmt["Bal"]}
    return balances["OPBD"], [signed(n) for n in stmt.get("Ntry", [])], balances["CLBD"]


def published(platform: Platform):  # type: ignore[no-untyped-def]
    return keys_from_jwks(platform.keys.jwks())


@pytest.mark.parametrize("period", [JAN, (date(2026, 1, 5), date(2026, 1, 12)),
                                    (date(2026, 1, 20), date(2026, 2, 28))])
def test_every_format_opens_plus_entries_to_its_close_which_is_the_ledgers(
        platform: Platform, period: tuple[date, date]) -> None:
    sealed = issued(platform, period)
    ledger = (posted(platform, day_start_ns(period[0]) - 1), posted(platform, day_end_ns(period[1])))
    for name, module in FORMATS.items():
        data = module.render(sealed)
        report = verify(data, published(platform))
        assert report.ok, (name, report.failed, report.checks)
        if name == "csv":
            opening, moves, closing = from_csv(data)
        elif name == "camt053":
            opening, moves, closing = from_camt(data)
        else:  # the page shows the signed statement ("content" check): read its numbers
            assert report.sealed is not None
            s = report.sealed.statement
            opening, moves, closing = (s.opening_balance_minor,
                                       [e.amount_minor for e in s.entries],
                                       s.closing_balance_minor)
        assert opening + sum(moves) == closing, name
        assert (opening, closing) == ledger, name


def test_the_january_statement_lists_the_booked_entries_and_not_the_holds(
        platform: Platform) -> None:
    s = issued(platform).statement
    assert [(e.entry_id, e.amount_minor) for e in s.entries] == [
        ("dep-1", 100_00), ("rent", -30_00), ("post-1", -5_00), ("back", 7_50)]
    assert (s.opening_balance_minor, s.closing_balance_minor) == (0, 72_50)


def test_the_statement_carries_its_audit_leaf_and_a_signed_tree_head_over_it(
        platform: Platform) -> None:
    sealed = issued(platform)
    head = sealed.proof.tree_head
    assert head.tree_size > sealed.proof.leaf_index
    leaf = json.loads(sealed.proof.leaf)
    assert leaf["action"] == "banking.statement_issued"
    assert leaf["detail"]["statement_sha256"] == sealed.statement_sha256
    data = csv_format.render(sealed).decode()
    assert f"#,audit_tree_size,{head.tree_size}" in data
    assert f"#,audit_root_hash,{base64.b64encode(head.root_hash).decode()}" in data
    xml = camt053.render(sealed).decode()
    assert f"audit_tree_size={head.tree_size}" in xml
    assert "<pw:Seal>" in xml


# -- attacks ---------------------------------------------------------------------------


def test_a_csv_with_a_changed_amount_fails_verification(platform: Platform) -> None:
    data = csv_format.render(issued(platform))
    forged = data.replace(b",rent january,-30.00,EUR,70.00", b",rent january,-3.00,EUR,97.00")
    forged = forged.replace(b"closing,2026-01-31,,,,,EUR,72.50", b"closing,2026-01-31,,,,,EUR,99.50")
    assert forged != data
    report = verify(forged, published(platform))
    assert not report.ok and report.failed == ["content"]


def test_an_xml_statement_with_a_changed_amount_fails_verification(platform: Platform) -> None:
    data = camt053.render(issued(platform))
    forged = data.replace(b'<Amt Ccy="EUR">30.00</Amt>', b'<Amt Ccy="EUR">3.00</Amt>', 1)
    assert forged != data
    report = verify(forged, published(platform))
    assert not report.ok and report.failed == ["content"]


def test_a_pdf_whose_page_shows_another_amount_fails_verification(platform: Platform) -> None:
    data = pdf.render(issued(platform))
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    content = page.get_contents()
    assert isinstance(content, ContentStream)
    raw = content.get_data()
    assert b"(-30.00)" in raw
    content.set_data(raw.replace(b"(-30.00)", b"(-3.00)"))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    forged = out.getvalue()
    assert pdf.read_seal(forged)  # the seal was kept: only the page changed
    report = verify(forged, published(platform))
    assert not report.ok and report.failed == ["content"]


def _resigned_payload(token: str, change) -> str:  # type: ignore[no-untyped-def]
    header, payload, signature = token.split(".")
    body = json.loads(urlsafe_b64decode(payload.encode()))
    change(body)
    encoded = urlsafe_b64encode(json.dumps(body).encode()).decode()
    return f"{header}.{encoded}.{signature}"


def test_a_seal_whose_signed_amount_was_changed_fails_the_signature(platform: Platform) -> None:
    sealed = issued(platform)

    def cheaper(body):  # type: ignore[no-untyped-def]
        body["statement"]["entries"][1]["amount_minor"] = -3_00

    token = _resigned_payload(sealed.jws, cheaper)
    from paywarden.services.banking.statements.seal import unverified

    forged = csv_format.render(unverified(token))
    report = verify(forged, published(platform))
    assert "signature" in report.failed and "adds_up" in report.failed


def test_a_statement_checked_against_other_keys_fails(platform: Platform) -> None:
    data = camt053.render(issued(platform))
    report = verify(data, keys_from_jwks({"keys": []}))
    assert set(report.failed) == {"signature", "tree_head"}


def test_a_file_with_no_seal_fails_as_a_format(platform: Platform) -> None:
    report = verify(b"type,booked_at\r\nentry,x\r\n", published(platform))
    assert report.failed == ["format"] and not report.ok
    report = verify(b"<Document/>", published(platform))
    assert report.failed == ["format"]


def test_an_xml_with_an_entity_bomb_is_refused_as_a_format(platform: Platform) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Document>&b;</Document>')
    assert verify(bomb, published(platform)).failed == ["format"]


def test_a_counterparty_named_like_a_formula_is_text_in_the_csv() -> None:
    assert csv_format._text("=HYPERLINK(\"http://evil\")").startswith("'=")
    assert csv_format._text("-1+2") == "'-1+2"
    assert csv_format._text("Bob") == "Bob"


# -- the command a customer runs ---------------------------------------------------------


def _cli(platform: Platform, tmp_path: Path, *args: str) -> Any:
    from typer.testing import CliRunner

    from paywarden.cli import app as cli

    env = {"PAYWARDEN_DATABASE_URL": platform.settings.database,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_PUBLIC_URL": "https://pay.example",
           "PAYWARDEN_WEBAUTHN_RP_ID": "pay.example", "PAYWARDEN_LOG_JSON": "true"}
    return CliRunner().invoke(cli, ["banking", "verify-statement", *args], env=env)


@pytest.mark.parametrize("kind", ["csv", "camt053", "pdf"])
def test_verify_statement_accepts_an_issued_file_against_a_saved_jwks_and_refuses_a_forged_one(
        platform: Platform, tmp_path: Path, kind: str) -> None:
    module = FORMATS[kind]
    path = tmp_path / f"statement.{module.EXTENSION}"
    path.write_bytes(module.render(issued(platform)))
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(platform.keys.jwks()))
    result = _cli(platform, tmp_path, str(path), "--jwks", str(keys), "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["verified"] is True and body["failed"] == []
    assert body["audit"]["tree_size"] > body["audit"]["leaf_index"]
    damaged = bytearray(path.read_bytes())
    if kind == "csv":
        damaged = bytearray(bytes(damaged).replace(b"-30.00", b"-31.00"))
    elif kind == "camt053":
        damaged = bytearray(bytes(damaged).replace(b">30.00<", b">31.00<"))
    else:  # flip one bit inside the attached seal's signature
        seal = pdf.read_seal(bytes(damaged)).encode()
        at = bytes(damaged).index(seal) + len(seal) - 5
        damaged[at] = ord("A") if damaged[at] != ord("A") else ord("B")
    path.write_bytes(bytes(damaged))
    result = _cli(platform, tmp_path, str(path), "--jwks", str(keys), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["verified"] is False


def test_verify_statement_uses_the_platforms_own_keys_on_its_host(platform: Platform,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "statement.xml"
    path.write_bytes(camt053.render(issued(platform)))
    result = _cli(platform, tmp_path, str(path))
    assert result.exit_code == 0, result.output
    assert "VERIFIED statement stm_" in result.stdout
