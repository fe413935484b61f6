"""GET /.well-known/jwks.json: public, cacheable, public keys only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.settings import Settings


@pytest.fixture
def served(database: Database, clock: FakeClock,
           tmp_path: Path) -> Iterator[tuple[TestClient, Platform]]:
    platform = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
                     database=database)
    with TestClient(create_app(platform)) as client:
        yield client, platform


def test_the_jwks_is_public_cacheable_and_lists_the_published_keys_without_private_parts(
        served: tuple[TestClient, Platform]) -> None:
    client, platform = served
    kids = {p: platform.keys.signer(p).key_id for p in ("tree_heads", "receipts", "ca",
                                                         "clearing")}
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age=" in response.headers["cache-control"]
    published = {k["kid"]: k for k in response.json()["keys"]}
    assert kids["tree_heads"] in published and kids["receipts"] in published
    assert kids["ca"] not in published
    assert kids["clearing"] not in published  # trusted through a participant certificate
    assert all(k["alg"] == "Ed25519" and k["kty"] == "OKP" and "d" not in k
               for k in published.values())
    assert '"d"' not in response.text


def test_a_rotated_key_stays_published_next_to_its_successor(
        served: tuple[TestClient, Platform]) -> None:
    client, platform = served
    old = platform.keys.signer("webhooks").key_id
    new = platform.keys.rotate("webhooks", actor="cli:test").kid
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {old, new} <= kids
