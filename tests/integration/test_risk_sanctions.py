"""Sanctions screening (services/risk/sanctions.py): a listed name written in another
script and another word order is hit, an ordinary name is not, a lone surname is not,
a hit opens a review record and an audit leaf, and a malformed list is refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, sanctions_reviews
from paywarden.domain.errors import DomainError
from paywarden.domain.risk.names import NameKind
from paywarden.services.risk.sanctions import SAMPLE_LIST, Sanctions


@pytest.fixture
def sanctions(database: Database, clock: FakeClock) -> Sanctions:
    screening = Sanctions(database, clock=clock)
    screening.load(SAMPLE_LIST, actor="cli:test")
    return screening


@pytest.mark.parametrize("name", ["Ivanov Sergei", "IVANOV, Sergey", "Sergej Ivanov"])
def test_a_listed_cyrillic_name_is_hit_transliterated_and_reordered(
        sanctions: Sanctions, name: str) -> None:
    hits = sanctions.screen_name(name, NameKind.PERSON)
    assert [h.entity_id for h in hits] == ["pw-fictional-p001"]
    assert hits[0].score >= 88


def test_a_name_in_its_own_script_is_hit_through_a_latin_alias(sanctions: Sanctions) -> None:
    (hit,) = sanctions.screen_name("Konstantinos Papadrosos", NameKind.ANY)
    assert hit.entity_id == "pw-fictional-p007"
    (hit,) = sanctions.screen_name("Кравчук Олег", NameKind.PERSON)
    assert hit.entity_id == "pw-fictional-p002"


@pytest.mark.parametrize("name", ["Sergei Petrov", "Maria Ivanova", "John Smith", "Ivanov",
                                  "Oleg", "Anna Kravitz"])
def test_an_ordinary_name_or_a_lone_shared_word_is_not_hit(sanctions: Sanctions,
                                                           name: str) -> None:
    assert sanctions.screen_name(name, NameKind.ANY) == []


def test_an_organisation_is_hit_without_its_legal_form_and_not_as_a_person(
        sanctions: Sanctions) -> None:
    (hit,) = sanctions.screen_name("NORDWIND TRADING", NameKind.ORGANIZATION)
    assert hit.entity_id == "pw-fictional-o001"
    assert sanctions.screen_name("Nordwind Trading", NameKind.PERSON) == []


def test_a_hit_opens_a_review_and_an_audit_leaf_and_a_clean_name_opens_none(
        sanctions: Sanctions, database: Database) -> None:
    clean = sanctions.screen("pye_clean", "Jane Doe", NameKind.ANY)
    assert clean.hits == [] and clean.review_id is None
    hit = sanctions.screen("pye_0001", "Ivanov Sergei", NameKind.ANY)
    assert hit.review_id is not None
    with database.engine.connect() as conn:
        review = conn.execute(select(sanctions_reviews)).mappings().one()
        leaves = conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.action.like("sanctions.%")).order_by(audit_entries.c.seq)).all()
    assert (review["id"], review["subject_ref"], review["state"]) == (hit.review_id,
                                                                      "pye_0001", "open")
    assert json.loads(review["hits"])[0]["entity_id"] == "pw-fictional-p001"
    assert list(leaves) == [("sanctions.load",), ("sanctions.hit",)]


def test_a_list_with_a_broken_line_is_refused_and_the_current_list_stays(
        sanctions: Sanctions, database: Database, clock: FakeClock, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ftm.json"
    bad.write_text(SAMPLE_LIST.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(DomainError) as refused:
        sanctions.load(bad, actor="cli:test")
    assert refused.value.code == "sanctions_list_invalid" and "line 13" in refused.value.detail
    fresh = Sanctions(database, clock=clock)  # another process reads the stored list
    assert [h.entity_id for h in fresh.screen_name("Sergei Ivanov", NameKind.ANY)] == [
        "pw-fictional-p001"]
