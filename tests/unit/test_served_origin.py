"""Signed requests and passkeys are bound to the origin the server is reached at."""

from __future__ import annotations

import pytest

from paywarden.cli.serving import served_at as _served_at
from paywarden.settings import Settings


def test_without_a_public_url_the_origin_is_where_we_serve(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("PAYWARDEN_PUBLIC_URL", raising=False)
    monkeypatch.delenv("PAYWARDEN_WEBAUTHN_RP_ID", raising=False)
    served = _served_at(Settings(), host="127.0.0.1", port=9123)
    assert (served.public_url, served.webauthn_rp_id, served.port) == (
        "http://localhost:9123", "localhost", 9123)  # browsers take no IP as rp id
    served = _served_at(Settings(), host="10.1.2.3", port=8000)
    assert (served.public_url, served.webauthn_rp_id) == ("http://10.1.2.3:8000", "10.1.2.3")


def test_a_configured_public_url_and_rp_id_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYWARDEN_PUBLIC_URL", "https://pay.example")
    monkeypatch.setenv("PAYWARDEN_WEBAUTHN_RP_ID", "pay.example")
    served = _served_at(Settings(), host="0.0.0.0", port=8000)
    assert (served.public_url, served.webauthn_rp_id) == ("https://pay.example", "pay.example")
