"""Name matching for sanctions screening: folding, tokens, and the score a hit needs.

Pure: the transliteration (to ASCII) happens before :func:`tokens`, and the similarity
of two tokens is a function passed in (``rapidfuzz``'s in the service), so these rules
are tested without either library. A name is compared as a bag of tokens, never in
its written order: "Ivanov Sergei" and "Sergei Ivanov" are the same tokens.

The score of a candidate is :func:`aligned_score`: each token of the screened name is
paired with its most similar unused token of the listed name (one-to-one, best pairs
first); the score is the mean similarity weighted by token length, less a penalty per
listed token left unpaired (a patronymic, a middle name) and per screened token left
unpaired. A single-token name is compared only with single-token names, so a lone
"Ivanov" never hits "Sergei Ivanov".
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Percent. Measured by bench/sanctions.py: at 88 the false-match rate on ordinary names
# is published in docs/decisions/0032; "Sergey" for "Sergei" in a two-word name scores 91.
HIT_SCORE_MIN = 88.0
UNPAIRED_LISTED_PENALTY = 4.0  # percent per listed token left over (middle names)
UNPAIRED_SCREENED_PENALTY = 15.0  # percent per screened token the listed name lacks
TOKEN_CHARS_MIN = 2  # shorter tokens (initials) carry no weight of their own
NAME_CHARS_MAX = 256
TOKENS_MAX = 8

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Legal forms and honorifics: they say nothing about who a party is.
STOP_TOKENS = frozenset({
    "mr", "mrs", "ms", "dr", "sir", "ltd", "llc", "inc", "plc", "gmbh", "ag", "sa", "sarl",
    "bv", "nv", "oy", "ab", "as", "spa", "srl", "ooo", "oao", "zao", "pao", "co", "corp",
    "company", "limited", "the", "and", "of",
})


class NameKind(enum.StrEnum):
    """What is screened: a person, an organisation, or a name that could be either
    (a payee's name)."""

    PERSON = "person"
    ORGANIZATION = "organization"
    ANY = "any"


# FollowTheMoney schemata each kind may match; LegalEntity is either.
SCHEMATA: dict[NameKind, frozenset[str]] = {
    NameKind.PERSON: frozenset({"Person", "LegalEntity"}),
    NameKind.ORGANIZATION: frozenset({"Organization", "Company", "LegalEntity", "PublicBody"}),
    NameKind.ANY: frozenset({"Person", "Organization", "Company", "LegalEntity",
                             "PublicBody"}),
}


def tokens(ascii_name: str) -> tuple[str, ...]:
    """The sorted, de-duplicated tokens of a transliterated name, without legal forms,
    honorifics or single letters; at most :data:`TOKENS_MAX`."""
    decomposed = unicodedata.normalize("NFKD", ascii_name[:NAME_CHARS_MAX].casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = {w for w in _NOT_WORD.split(plain)
             if len(w) >= TOKEN_CHARS_MIN and w not in STOP_TOKENS}
    return tuple(sorted(words))[:TOKENS_MAX]


TokenRatio = Callable[[str, str], float]  # percent similarity of two tokens


@dataclass(frozen=True)
class Pairing:
    score: float  # percent
    paired: int  # tokens paired


def aligned_score(screened: Sequence[str], listed: Sequence[str], ratio: TokenRatio
                  ) -> Pairing:
    """How alike two token bags are, in percent (module docstring)."""
    if not screened or not listed or (len(screened) == 1) != (len(listed) == 1):
        return Pairing(0.0, 0)
    pairs = sorted(((ratio(s, t), i, j) for i, s in enumerate(screened)
                    for j, t in enumerate(listed)), reverse=True)
    used_s: set[int] = set()
    used_t: set[int] = set()
    weighted = 0.0
    for similarity, i, j in pairs:
        if i in used_s or j in used_t:
            continue
        used_s.add(i)
        used_t.add(j)
        weighted += similarity * len(screened[i])
    total = sum(len(s) for s in screened)
    unpaired_listed = len(listed) - len(used_t)
    unpaired_screened = len(screened) - len(used_s)
    score = (weighted / total) - UNPAIRED_LISTED_PENALTY * unpaired_listed \
        - UNPAIRED_SCREENED_PENALTY * unpaired_screened
    return Pairing(max(0.0, score), len(used_s))


def is_hit(score: float) -> bool:
    return score >= HIT_SCORE_MIN
