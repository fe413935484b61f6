"""One public origin: PAYWARDEN_PUBLIC_URL, or http://localhost:<port> when listening on
loopback; signed requests, passkeys and evidence are all bound to it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paywarden.cli.serving import served_at
from paywarden.origins import OriginError
from paywarden.settings import Settings


@pytest.fixture(autouse=True)
def no_origin_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC_URL", "WEBAUTHN_RP_ID", "HOST", "PORT", "DATABASE_URL"):
        monkeypatch.delenv(f"PAYWARDEN_{name}", raising=False)


def test_the_defaults_name_localhost_everywhere() -> None:
    settings = Settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)  # where we listen
    assert settings.public_url == "http://localhost:8000"  # what everyone uses
    assert settings.webauthn_rp_id == "localhost"  # browsers take no IP as rp id


def test_without_a_public_url_the_origin_follows_the_loopback_port() -> None:
    assert Settings(port=9123).public_url == "http://localhost:9123"
    served = served_at(Settings(), host="127.0.0.1", port=9123)
    assert (served.public_url, served.webauthn_rp_id, served.port) == (
        "http://localhost:9123", "localhost", 9123)
    assert served_at(Settings(), host="::1", port=8000).public_url == "http://localhost:8000"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "pay.example"])
def test_listening_elsewhere_without_a_public_url_is_refused(host: str) -> None:
    with pytest.raises(OriginError, match="PAYWARDEN_PUBLIC_URL"):
        served_at(Settings(), host=host, port=8000)
    with pytest.raises(ValidationError, match="PAYWARDEN_PUBLIC_URL"):
        Settings(host=host)


def test_a_public_url_decides_the_rp_id_and_is_kept_wherever_we_listen(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYWARDEN_PUBLIC_URL", "https://Pay.Example/")
    settings = Settings()
    assert (settings.public_url, settings.webauthn_rp_id) == ("https://pay.example",
                                                              "pay.example")
    served = served_at(settings, host="0.0.0.0", port=8000)
    assert (served.public_url, served.webauthn_rp_id) == ("https://pay.example", "pay.example")


def test_an_rp_id_that_is_not_the_origins_domain_is_refused() -> None:
    assert Settings(public_url="https://pay.example.com",
                    webauthn_rp_id="example.com").webauthn_rp_id == "example.com"
    with pytest.raises(ValidationError, match="relying party id"):
        Settings(public_url="https://pay.example.com", webauthn_rp_id="evil.example")


@pytest.mark.parametrize("url", ["pay.example", "ftp://pay.example", "https://pay.example/v1",
                                 "https://pay.example?x=1", "https://user@pay.example",
                                 "https://pay.example:99999"])
def test_a_public_url_that_is_no_origin_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=url)


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "postgresql+psycopg2://u@h/d",
                                 "oracle://u@h/d"])
def test_a_database_url_we_cannot_open_is_refused_at_start_up(url: str) -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(database_url=url)
