"""The registry's signed feed (services/registry/feed.py) between two PayWarden instances
that share a hashing key: it carries digests only, imported entries are attributed to
their issuer, and a forged, replayed, out-of-order or unknown issuer's feed is refused."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.bootstrap import Platform
from paywarden.domain.errors import DomainError
from paywarden.domain.registry import Action
from paywarden.services.keys.purposes import REGISTRY
from paywarden.services.registry import Registry

from ..support.merchants import platform_for
from ..support.registry import applied, entry_made
from ..support.sealing import assert_no_plaintext

SHARED_KEY = os.urandom(32)
OTHER = "https://other-bank.example"
EMAIL = "Fraud.Ster@Example.com"


@pytest.fixture
def here(database: Database, clock: FakeClock, tmp_path: Path) -> Platform:
    platform = platform_for(database, clock, tmp_path / "here")
    platform.registry.install_shared_key(SHARED_KEY, actor="cli:ops")
    return platform


def other_platform(clock: FakeClock, tmp_path: Path, *, shared: bool = True,
                   issuer: str = OTHER) -> Iterator[Platform]:
    database = open_database(f"sqlite:///{tmp_path}/other-{os.urandom(4).hex()}.db")
    database.migrate()
    platform = platform_for(database, clock, tmp_path / f"other-{os.urandom(4).hex()}",
                            registry_issuer=issuer)
    if shared:
        platform.registry.install_shared_key(SHARED_KEY, actor="cli:ops")
    platform.keys.ensure({REGISTRY})  # as Platform.start does: its JWKS names the key
    yield platform
    database.dispose()


@pytest.fixture
def other(clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    yield from other_platform(clock, tmp_path)


def trust(registry: Registry, source: Platform) -> None:
    applied(registry, Action.TRUST_SOURCE, {"issuer": source.registry.issuer,
                                            "jwks": source.keys.jwks()})


def claims_of(text: str) -> dict[str, object]:
    part = text.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_a_feed_carries_digests_only_and_its_entries_match_here_attributed_to_their_source(
        here: Platform, other: Platform, clock: FakeClock) -> None:
    made = entry_made(other.registry, [("email", EMAIL), ("phone", "+31 6 12345678")],
                      now_ns=clock.now_ns(), reason="money_mule")
    sequence, text = other.registry.export_feed(actor="cli:ops")
    assert sequence == 1 and claims_of(text)["iss"] == OTHER
    assert_no_plaintext(text.encode() + json.dumps(claims_of(text)).encode(),
                        [EMAIL, EMAIL.lower(), "+31612345678", "612345678", "case:4711"],
                        where="the feed")
    trust(here.registry, other)
    imported = here.registry.import_feed(text, actor="cli:ops")
    assert (imported.sequence, imported.added) == (1, 1)
    (hit,) = here.registry.hits({"email": "fraud.ster@example.com"})
    assert (hit.source, hit.reason) == (OTHER, "money_mule") and hit.entry_id != made


def test_the_registry_signing_key_is_published_in_the_jwks(other: Platform) -> None:
    kid = other.keys.signer(REGISTRY).key_id
    assert kid in {k["kid"] for k in other.keys.jwks()["keys"]}


def test_a_forged_feed_is_refused(here: Platform, other: Platform, clock: FakeClock,
                                  tmp_path: Path) -> None:
    entry_made(other.registry, [("email", EMAIL)], now_ns=clock.now_ns())
    _, text = other.registry.export_feed(actor="cli:ops")
    trust(here.registry, other)
    header, _payload, signature = text.split(".")
    forged_claims = {**claims_of(text), "entries": []}
    payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=")
    for forged in (f"{header}.{payload.decode()}.{signature}",
                   f"{header}.{_payload}.{signature[:-4]}AAAA"):
        with pytest.raises(DomainError) as refused:
            here.registry.import_feed(forged, actor="cli:ops")
        assert refused.value.code == "registry_feed_signature_invalid"
    # An impostor instance naming the trusted issuer signs with its own key.
    impostor = next(other_platform(clock, tmp_path, issuer=OTHER))
    _, faked = impostor.registry.export_feed(actor="cli:ops")
    with pytest.raises(DomainError) as refused:
        here.registry.import_feed(faked, actor="cli:ops")
    assert refused.value.code == "registry_feed_signature_invalid"
    assert here.registry.hits({"email": EMAIL}) == []
    here.registry.import_feed(text, actor="cli:ops")  # the genuine one still goes in
    assert len(here.registry.hits({"email": EMAIL})) == 1


def test_a_replayed_feed_is_refused(here: Platform, other: Platform, clock: FakeClock) -> None:
    entry = entry_made(other.registry, [("email", EMAIL)], now_ns=clock.now_ns())
    _, first = other.registry.export_feed(actor="cli:ops")
    trust(here.registry, other)
    here.registry.import_feed(first, actor="cli:ops")
    applied(other.registry, Action.REMOVE, {}, entry_id=entry)
    _, second = other.registry.export_feed(actor="cli:ops")
    assert here.registry.import_feed(second, actor="cli:ops").removed == 1
    assert here.registry.hits({"email": EMAIL}) == []
    for replayed in (first, second):  # the old feed would bring the removed entry back
        with pytest.raises(DomainError) as refused:
            here.registry.import_feed(replayed, actor="cli:ops")
        assert refused.value.code == "registry_feed_replayed"
    assert here.registry.hits({"email": EMAIL}) == []


def test_a_gap_in_the_sequence_is_refused_unless_stated(here: Platform, other: Platform) -> None:
    trust(here.registry, other)
    other.registry.export_feed(actor="cli:ops")
    _, second = other.registry.export_feed(actor="cli:ops")
    with pytest.raises(DomainError) as refused:
        here.registry.import_feed(second, actor="cli:ops")
    assert refused.value.code == "registry_feed_gap"
    assert here.registry.import_feed(second, actor="cli:ops", allow_gap=True).sequence == 2


def test_a_feed_from_an_unknown_issuer_is_refused(here: Platform, other: Platform) -> None:
    _, text = other.registry.export_feed(actor="cli:ops")
    with pytest.raises(DomainError) as refused:
        here.registry.import_feed(text, actor="cli:ops")
    assert refused.value.code == "registry_feed_unknown_issuer"


def test_a_feed_hashed_under_another_key_is_refused(here: Platform, clock: FakeClock,
                                                   tmp_path: Path) -> None:
    lone = next(other_platform(clock, tmp_path, shared=False))
    trust(here.registry, lone)
    _, text = lone.registry.export_feed(actor="cli:ops")
    with pytest.raises(DomainError) as refused:
        here.registry.import_feed(text, actor="cli:ops")
    assert refused.value.code == "registry_feed_key_mismatch"


def test_the_shared_key_is_installed_only_before_any_digest_is_stored(
        other: Platform, clock: FakeClock) -> None:
    entry_made(other.registry, [("email", EMAIL)], now_ns=clock.now_ns())
    with pytest.raises(DomainError) as refused:
        other.registry.install_shared_key(os.urandom(32), actor="cli:ops")
    assert refused.value.code == "registry_key_exists"
