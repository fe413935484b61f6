"""Look-alike usernames: PRECIS (RFC 8265), one script, and no name confusable with one that
exists; each refusal creates no user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import users
from paywarden.domain.errors import DomainError
from paywarden.services.identity.usernames import check_admissible, lookalikes, precis_form
from paywarden.services.identity.users import normalise_username

from ..support.merchants import code_of
from ..support.passwords import password_api, sign_up
from ..support.platform import platform_of


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with password_api(database, clock, tmp_path) as client:
        yield client


def user_count(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


@pytest.mark.parametrize(("existing", "spoof", "code"), [
    ("paypal", "pаypal", "username_mixed_script"),     # one Cyrillic a among Latin
    ("paypal", "раураl", "username_mixed_script"),     # Cyrillic, with one Latin l
    ("paypal", "раураӏ", "username_confusable"),       # all Cyrillic, every letter a twin
    ("alice", "ɑlice", "username_confusable"),         # Latin alpha: one script, a twin of a
    ("paypal", "paypa1", "username_confusable"),       # an existing name, l written as 1
    ("bi11", "bill", "username_confusable"),           # and the other way round
    ("alice", "ALICE", "username_taken"),              # case maps to the same name
    ("alice", "ａｌｉｃｅ", "username_taken"),          # full-width maps to the same name
])
def test_a_name_that_looks_like_another_is_refused_and_creates_no_user(
        api: TestClient, existing: str, spoof: str, code: str) -> None:
    assert sign_up(api, existing).status_code == 201
    before = user_count(api)
    r = sign_up(api, spoof)
    assert r.status_code in (409, 422) and code_of(r) == code, r.text
    assert user_count(api) == before


@pytest.mark.parametrize("name", ["a b", "ﬁx", "alice\u202e", "al\u200bice", "☃snow"])
def test_a_name_precis_disallows_is_refused(api: TestClient, name: str) -> None:
    r = sign_up(api, name)
    assert r.status_code == 422 and code_of(r) in ("username_invalid", "text_bidi_control"), \
        r.text
    assert user_count(api) == 0


@pytest.mark.parametrize("name", ["иван", "josé", "müller_2", "δημήτρης", "田中太郎", "bob.smith-1"])
def test_a_name_in_one_script_with_no_look_alike_is_accepted(api: TestClient,
                                                             name: str) -> None:
    r = sign_up(api, name)
    assert r.status_code == 201, r.text
    assert r.json()["username"] == normalise_username(precis_form(name))


def test_every_spelling_a_reader_could_take_is_bounded() -> None:
    assert lookalikes("paypa1") == ["paypal"]
    assert lookalikes("иван") == []
    with pytest.raises(DomainError) as caught:
        lookalikes("l1l1l1l1l")  # 2**9 spellings
    assert caught.value.code == "username_confusable"
    check_admissible("bob")
