"""Sanctions screening: payees, merchants and customers against a loaded list.

    load(path)            read a FollowTheMoney file, replace the current list in one
                          transaction, audit leaf ``sanctions.load`` (digest, count)
    screen_name(n, kind)  pure read: the hits for one name, best first
    screen(ref, n, kind)  screen_name, and a hit opens a review record (audited)

A name is transliterated to ASCII with ``anyascii`` ("Сергей Иванов" becomes "Sergei
Ivanov"), folded into sorted tokens (domain/risk/names.py) and compared token by token
with ``rapidfuzz``. Candidates are found through an index of the list's tokens: each
screened token is looked up among the list's distinct tokens (``process.extract``, at
:data:`TOKEN_SCORE_MIN` or better), and only entities holding one of those tokens are
scored, so a screening costs a few lookups in the vocabulary rather than a pass over
every listed name.

A hit is not a decline: it is a reason for the risk engine, and the movement waits in
review for an analyst (decision 0032).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process
from sqlalchemy import Connection, delete, insert, select

from ...adapters.clock import Clock
from ...adapters.sanctions import ListedEntity, SanctionsListError, read_entities
from ...adapters.store import Database
from ...adapters.store.schema import sanctions_entities, sanctions_lists, sanctions_reviews
from ...domain.errors import DomainError
from ...domain.risk.names import (
    NAME_CHARS_MAX,
    SCHEMATA,
    NameKind,
    aligned_score,
    is_hit,
    tokens,
)
from .. import audit

SAMPLE_LIST = Path(__file__).resolve().parents[2] / "adapters" / "sanctions" / "sample.ftm.json"
TOKEN_SCORE_MIN = 75.0  # percent: a screened token looks only at list tokens this alike
TOKEN_CANDIDATES_MAX = 32  # list tokens considered per screened token
HITS_MAX = 10
INSERT_BATCH_SIZE = 1_000
REF_CHARS_MAX = 128


@dataclass(frozen=True)
class SanctionsHit:
    entity_id: str
    schema: str
    matched_name: str  # the listed name (or alias) that matched, as listed
    score: float  # percent
    birth_dates: tuple[str, ...]
    countries: tuple[str, ...]


@dataclass(frozen=True)
class Screening:
    hits: list[SanctionsHit]
    review_id: str | None  # set when a hit opened a review
    list_id: str | None


class _Index:
    """The current list, folded: every name's tokens, and the entities per token."""

    def __init__(self, list_id: str | None, entities: list[ListedEntity]) -> None:
        self.list_id = list_id
        self.entities = entities
        self.names: list[tuple[int, str, tuple[str, ...]]] = []  # entity, name, tokens
        by_token: dict[str, set[int]] = defaultdict(set)
        for e, entity in enumerate(entities):
            for name in entity.names:
                folded = tokens(anyascii(name))
                if folded:
                    n = len(self.names)
                    self.names.append((e, name, folded))
                    for token in folded:
                        by_token[token].add(n)
        self.by_token = dict(by_token)
        self.vocabulary = list(self.by_token)


def _token_ratio(a: str, b: str) -> float:
    return float(fuzz.ratio(a, b))


class Sanctions:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._index: _Index | None = None

    def load(self, path: Path, *, actor: str) -> tuple[str, int]:
        """Replace the current list with the file's entities; (list id, entity count)."""
        try:
            entities = read_entities(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except (OSError, SanctionsListError) as exc:
            raise DomainError("sanctions_list_invalid", f"{path.name}: {exc}") from exc
        list_id = "sl_" + secrets.token_hex(12)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            conn.execute(delete(sanctions_entities))
            conn.execute(insert(sanctions_lists).values(
                id=list_id, sha256=digest, source=path.name[:200], entity_count=len(entities),
                loaded_by=actor[:128], loaded_at=now))
            rows = [{"list_id": list_id, "entity_id": e.id, "schema": e.schema,
                     "names": json.dumps(e.names, ensure_ascii=False),
                     "birth_dates": json.dumps(e.birth_dates),
                     "countries": json.dumps(e.countries)} for e in entities]
            for start in range(0, len(rows), INSERT_BATCH_SIZE):
                conn.execute(insert(sanctions_entities), rows[start:start + INSERT_BATCH_SIZE])
            audit.record(conn, at_ns=now, actor=actor, action="sanctions.load",
                         object_id=list_id, detail={"sha256": digest,
                                                    "entities": len(entities)})
        self._index = _Index(list_id, entities)
        return list_id, len(entities)

    def use(self, entities: list[ListedEntity], list_id: str | None = None) -> None:
        """Screen against these entities (a benchmark's generated list), not the stored."""
        self._index = _Index(list_id, entities)

    def refresh(self) -> _Index:
        """Read the current list from the database (after another process loaded one)."""
        with self._database.engine.connect() as conn:
            current = conn.execute(select(sanctions_lists.c.id).order_by(
                sanctions_lists.c.loaded_at.desc()).limit(1)).scalar()
            rows = conn.execute(select(sanctions_entities).where(
                sanctions_entities.c.list_id == current)).mappings().all()
        self._index = _Index(current, [
            ListedEntity(r["entity_id"], r["schema"], tuple(json.loads(r["names"])),
                         tuple(json.loads(r["birth_dates"])), tuple(json.loads(r["countries"])))
            for r in rows])
        return self._index

    def _current(self) -> _Index:
        return self.refresh() if self._index is None else self._index

    def screen_name(self, name: str, kind: NameKind) -> list[SanctionsHit]:
        """The listed entities this name matches, best first (at most :data:`HITS_MAX`)."""
        if not isinstance(name, str) or len(name) > NAME_CHARS_MAX:
            raise DomainError("sanctions_name_invalid",
                              f"a screened name is text of at most {NAME_CHARS_MAX} chars")
        index = self._current()
        screened = tokens(anyascii(name))
        if not screened:
            return []
        candidates: set[int] = set()
        for token in screened:
            for similar, _, _ in process.extract(
                    token, index.vocabulary, scorer=fuzz.ratio, score_cutoff=TOKEN_SCORE_MIN,
                    limit=TOKEN_CANDIDATES_MAX):
                candidates |= index.by_token[similar]
        schemata = SCHEMATA[NameKind(kind)]
        best: dict[int, SanctionsHit] = {}
        for n in candidates:
            e, listed_name, listed = index.names[n]
            entity = index.entities[e]
            if entity.schema not in schemata:
                continue
            score = aligned_score(screened, listed, _token_ratio).score
            if is_hit(score) and (e not in best or best[e].score < score):
                best[e] = SanctionsHit(entity.id, entity.schema, listed_name, round(score, 1),
                                       entity.birth_dates, entity.countries)
        return sorted(best.values(), key=lambda h: (-h.score, h.entity_id))[:HITS_MAX]

    def screen(self, subject_ref: str, name: str, kind: NameKind, *,
               actor: str = audit.SYSTEM) -> Screening:
        """Screen a party's name; a hit opens a review record, audited with its scores."""
        if not isinstance(subject_ref, str) or not 0 < len(subject_ref) <= REF_CHARS_MAX:
            raise DomainError("sanctions_name_invalid", "the subject reference is invalid")
        hits = self.screen_name(name, kind)
        list_id = self._current().list_id
        if not hits:
            return Screening([], None, list_id)
        review_id = "sr_" + secrets.token_hex(12)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            record_review(conn, review_id=review_id, at_ns=now, subject_ref=subject_ref,
                          name=name, kind=NameKind(kind), list_id=list_id or "", hits=hits)
            audit.record(conn, at_ns=now, actor=actor, action="sanctions.hit",
                         object_id=review_id,
                         detail={"subject": subject_ref, "entities": len(hits),
                                 "entity": hits[0].entity_id, "score": hits[0].score})
        return Screening(hits, review_id, list_id)


def record_review(conn: Connection, *, review_id: str, at_ns: int, subject_ref: str,
                  name: str, kind: NameKind, list_id: str, hits: list[SanctionsHit]) -> None:
    body: list[dict[str, Any]] = [{"entity_id": h.entity_id, "score": h.score,
                                   "matched_name": h.matched_name} for h in hits]
    conn.execute(insert(sanctions_reviews).values(
        id=review_id, subject_ref=subject_ref, kind=str(kind), screened_name=name,
        list_id=list_id, hits=json.dumps(body, ensure_ascii=False),
        score_max=int(hits[0].score), state="open", created_at=at_ns))
