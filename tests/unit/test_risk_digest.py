"""A decision's audit digest covers its score as its shortest decimal text: the same digest
from the row as written and as read back, and the standard encoder's path (RFC 8785's
bytes, checked against the library), not the library's slow number formatting."""

from __future__ import annotations

import json

import rfc8785

from paywarden.domain.audit.leaves import _plain, canonical, jsonable, state_digest
from paywarden.services.risk.engine import DIGESTED, digested

ROW = {"id": "rsk_1", "subject": "usr_1", "operation": "bank.external", "object_id": "m1",
       "features": json.dumps({"amount_minor": 500, "theirs": True}), "rules_version": 3,
       "model_version": "m7", "score": 5.857253893023216e-06, "reasons": "[]",
       "detail": "{}", "decision": "allow", "engine": "ok", "at": 1_767_225_600_000_000_000}


def test_the_score_is_digested_as_text_on_the_fast_path_and_survives_a_round_trip() -> None:
    after = digested(ROW)
    assert set(after) == set(DIGESTED) and after["score"] == "5.857253893023216e-06"
    assert _plain(jsonable(after))  # the standard encoder's path
    assert canonical(jsonable(after)) == rfc8785.dumps(jsonable(after))
    read_back = {**ROW, "score": float(json.loads(json.dumps(ROW["score"])))}
    assert state_digest(digested(read_back)) == state_digest(after)
    assert state_digest(digested({**ROW, "score": 0.5})) != state_digest(after)


def test_no_score_stays_null() -> None:
    assert digested({**ROW, "score": None})["score"] is None
