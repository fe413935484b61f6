"""Confirmation of payee: does the name a customer typed belong to the IBAN they typed?

For an IBAN at this bank the typed name is compared with the account holder's display
name, with ``rapidfuzz``: both are folded first (case, accents, punctuation, the order of
the words), then

- **match**: the folded names are the same;
- **close_match**: a similarity of at least ``CLOSE_SCORE_MIN`` percent, the better of
  the names compared in their own word order and with the words sorted (sorting alone
  moves a typo'd first word: "Bob Bilder" sorts to "bilder bob", "Bob Builder" to "bob
  builder", a score of 57 for a one-letter slip); the answer gives the holder's name back, as the UK's CoP does, so the customer can correct a
  typo — only then, so the check cannot be used to read names off IBANs;
- **no_match**: anything else, and also an IBAN of ours that no account has, so the
  answer does not tell which of our account numbers exist;
- **unavailable**: another bank's IBAN (no inter-bank CoP until the settlement issue).
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

CLOSE_SCORE_MIN = 80.0  # percent; "A Lovelace" for "Ada Lovelace" scores 91, "Bob Smith" 10


class Answer(enum.StrEnum):
    MATCH = "match"
    CLOSE_MATCH = "close_match"
    NO_MATCH = "no_match"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Confirmation:
    answer: Answer
    holder_name: str | None = None  # only on a close match


def _fold(name: str) -> str:
    """Lower case, no accents or punctuation, single spaces; the words in their order."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(utils.default_process(plain).split())


def _sorted(folded: str) -> str:
    return " ".join(sorted(folded.split()))


def compare(typed: str, holder: str | None) -> Confirmation:
    """The answer for ``typed`` against the holder's name (None: no account has the IBAN)."""
    if holder is None:
        return Confirmation(Answer.NO_MATCH)
    a, b = _fold(typed), _fold(holder)
    if a and _sorted(a) == _sorted(b):
        return Confirmation(Answer.MATCH)
    if a and max(fuzz.ratio(a, b), fuzz.ratio(_sorted(a), _sorted(b))) >= CLOSE_SCORE_MIN:
        return Confirmation(Answer.CLOSE_MATCH, holder)
    return Confirmation(Answer.NO_MATCH)
