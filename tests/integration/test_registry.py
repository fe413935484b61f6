"""The credit registry's service (services/registry): identifiers are normalised before
they are hashed, so another spelling still matches; one member of staff alone writes
nothing; an expired or removed entry no longer matches; and no identifier is stored or
logged in plain. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.bootstrap import Platform
from paywarden.domain.errors import DomainError
from paywarden.domain.registry import Action
from paywarden.services.registry import Registry

from ..support.merchants import platform_for
from ..support.registry import applied, entry_made, every_stored_value
from ..support.sealing import assert_no_plaintext


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Platform:
    return platform_for(database, clock, tmp_path)


@pytest.fixture
def registry(platform: Platform) -> Registry:
    return platform.registry


def test_an_entry_for_an_email_matches_it_in_another_case_with_spaces(
        registry: Registry, clock: FakeClock) -> None:
    entry = entry_made(registry, [("email", "Alice@Example.com")], now_ns=clock.now_ns())
    (hit,) = registry.hits({"email": "alice@example.com "})
    assert (hit.kind, hit.entry_id, hit.reason, hit.source) == (
        "email", entry, "confirmed_fraud", "local")
    assert registry.hits({"email": "bob@example.com"}) == []


def test_an_entry_for_a_phone_matches_its_national_form_in_its_region(
        registry: Registry, clock: FakeClock) -> None:
    entry = entry_made(registry, [("phone", "+44 20 7946 0958")], now_ns=clock.now_ns())
    assert [h.entry_id for h in registry.hits({"phone": "020 7946 0958"}, region="GB")] == [
        entry]
    assert registry.hits({"phone": "020 7946 0958"}, region="NL") == []


def test_gmail_dots_and_tags_match_but_another_providers_do_not(
        registry: Registry, clock: FakeClock) -> None:
    entry_made(registry, [("email", "mule.account@gmail.com"),
                          ("email", "mule.account@example.org")], now_ns=clock.now_ns())
    assert len(registry.hits({"email": "MuleAccount+x@googlemail.com"})) == 1
    assert registry.hits({"email": "muleaccount@example.org"}) == []


def test_ibans_national_ids_and_devices_are_normalised_before_hashing(
        registry: Registry, clock: FakeClock) -> None:
    entry_made(registry, [("iban", "NL91 ABNA 0417 1643 00"), ("national_id", "nl:1234.56.782"),
                          ("device_id", "dev-AbC")], now_ns=clock.now_ns())
    assert [h.kind for h in registry.hits({"iban": "nl91abna0417164300",
                                           "national_id": "NL:123456782",
                                           "device_id": " dev-AbC"})] == [
        "device_id", "iban", "national_id"]
    assert registry.hits({"device_id": "dev-abc"}) == []  # device ids keep their case


def test_an_identifier_that_is_no_identifier_is_skipped_by_hits_and_refused_for_an_entry(
        registry: Registry) -> None:
    assert registry.hits({"phone": "not a phone", "email": "no-at-sign"}) == []
    with pytest.raises(DomainError) as refused:
        registry.digests([("phone", "not a phone")])
    assert refused.value.code == "registry_identifier_invalid"
    assert "not a phone" not in refused.value.detail


def test_a_checked_request_alone_writes_nothing(registry: Registry, clock: FakeClock) -> None:
    body = {"identifiers": registry.digests([("email", "eve@example.com")]),
            "reason": "money_mule", "evidence_ref": "case:1", "expires_at": clock.now_ns() + 1}
    checked = registry.check_request(Action.CREATE, body)
    assert checked["reason"] == "money_mule"
    assert registry.hits({"email": "eve@example.com"}) == []


def test_an_expired_entry_no_longer_matches(registry: Registry, clock: FakeClock) -> None:
    entry_made(registry, [("email", "eve@example.com")], now_ns=clock.now_ns(),
               expires_in_ns=3_600 * 1_000_000_000)
    assert len(registry.hits({"email": "eve@example.com"})) == 1
    clock.advance(3_600)
    assert registry.hits({"email": "eve@example.com"}) == []


def test_changing_and_removing_an_entry_apply_to_a_live_local_entry_only(
        registry: Registry, clock: FakeClock) -> None:
    entry = entry_made(registry, [("email", "eve@example.com")], now_ns=clock.now_ns())
    applied(registry, Action.CHANGE, {"reason": "refund_abuse"}, entry_id=entry)
    assert registry.hits({"email": "eve@example.com"})[0].reason == "refund_abuse"
    applied(registry, Action.REMOVE, {}, entry_id=entry)
    assert registry.hits({"email": "eve@example.com"}) == []
    with pytest.raises(DomainError) as gone:
        registry.check_request(Action.REMOVE, {}, entry_id=entry)
    assert gone.value.code == "registry_entry_not_local"


def test_a_subject_learns_the_reason_category_and_appeals_with_a_deadline(
        registry: Registry, clock: FakeClock) -> None:
    entry = entry_made(registry, [("email", "eve@example.com")], now_ns=clock.now_ns())
    (seen,) = registry.subject_status([("email", "EVE@example.com")], actor="usr_support")
    assert (seen.entry_id, seen.reason, seen.appeal_id) == (entry, "confirmed_fraud", None)
    assert not hasattr(seen, "evidence_ref")
    with pytest.raises(DomainError) as other:  # not this subject's entry
        registry.appeal(entry, [("email", "someone@example.com")], staff_id="usr_support",
                        actor="usr_support")
    assert other.value.code == "not_found"
    appeal = registry.appeal(entry, [("email", "eve@example.com")], staff_id="usr_support",
                             actor="usr_support")
    assert appeal.due_at_ns == clock.now_ns() + 30 * 86_400 * 1_000_000_000
    assert registry.subject_status([("email", "eve@example.com")],
                                   actor="usr_support")[0].appeal_id == appeal.id
    with pytest.raises(DomainError) as twice:
        registry.appeal(entry, [("email", "eve@example.com")], staff_id="usr_support",
                        actor="usr_support")
    assert twice.value.code == "registry_appeal_open"


def test_no_identifier_is_stored_or_logged_in_plain(
        registry: Registry, database: Database, clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    raw = [("email", "Plain.Canary.4711@Example.com"), ("phone", "+44 20 7946 0958"),
           ("iban", "NL91ABNA0417164300"), ("national_id", "NL:987654321"),
           ("device_id", "canary-device-4711"), ("card_fingerprint", "c0ffee4711c0ffee4711")]
    with caplog.at_level(logging.DEBUG):
        entry = entry_made(registry, raw, now_ns=clock.now_ns())
        registry.hits(dict(raw) | {"phone": "020 7946 0958"}, region="GB")
        registry.subject_status(raw, actor="usr_support")
        registry.appeal(entry, raw[:1], staff_id="usr_support", actor="usr_support")
        registry.export_feed(actor="cli:ops")
    needles = [v for _k, v in raw] + ["plain.canary.4711@example.com", "+442079460958",
                                      "442079460958", "2079460958", "987654321"]
    assert_no_plaintext(every_stored_value(database), needles, where="the tables")
    assert_no_plaintext(caplog.text.encode(), needles, where="the logs")
