"""What a password must be: long enough, and not one an attacker tries early.

Length is what makes a password hard to guess, so there are no composition
rules (one digit, one capital…), which only produce ``Password1!``. Instead a
password is refused when it is, or is built around, something on an
attacker's first list: a common password, one character or a short pattern
repeated, a keyboard or alphabet run, the user's own name, or a date.

Every refusal is a :class:`PasswordRefused` with a stable ``code``; the
``detail`` never repeats the password.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass

from ..errors import DomainError

PASSWORD_CHARS_MIN = 12
PASSWORD_CHARS_MAX = 256
PATTERN_CHARS_MAX = 4  # a password that repeats a unit this short is "all one pattern"
RUN_CHARS_MIN = 4  # keyboard/alphabet runs shorter than this are ordinary text
REST_CHARS_MIN = 8  # what must remain once runs, names and dates are taken out
NAME_PART_CHARS_MIN = 4  # parts of a display name shorter than this are too common to refuse
CORE_CHARS_MIN = 4  # a shorter core leaves a password of digits and symbols: judged as such

_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
    "qwertzuiop", "azertyuiop", "qsdfghjklm", "wxcvbn",
    "1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/",
    "!@#$%^&*()",
)  # fmt: skip
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "9": "g", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"})
_DATE = re.compile(
    r"(?:19|20)\d\d[-/. ]?(?:0?[1-9]|1[0-2])[-/. ]?(?:0?[1-9]|[12]\d|3[01])"  # 1990-01-31
    r"|(?:0?[1-9]|[12]\d|3[01])[-/. ]?(?:0?[1-9]|1[0-2])[-/. ]?(?:19|20)?\d\d"  # 31.01.1990
    r"|(?:19|20)\d\d"  # a year
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class PasswordRefused(DomainError):
    """A password the policy refuses; ``code`` says which rule."""


@dataclass(frozen=True)
class Personal:
    """What an attacker knows about the account: its names."""

    username: str
    display_name: str = ""


def normalise_password(password: str) -> str:
    """NFKC, so the same password typed on any keyboard or device is the same string."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, personal: Personal, common: Container[str]) -> None:
    """Return if ``password`` (already normalised) is acceptable; raise otherwise."""
    if len(password) < PASSWORD_CHARS_MIN:
        raise PasswordRefused("password_too_short",
                              f"a password needs at least {PASSWORD_CHARS_MIN} characters")
    if len(password) > PASSWORD_CHARS_MAX:
        raise PasswordRefused("password_too_long",
                              f"a password has at most {PASSWORD_CHARS_MAX} characters")
    lowered = password.casefold()
    if _is_common(lowered, common):
        raise PasswordRefused("password_common", "that password, or the word it is built "
                              "around, is among the most common passwords")
    if _repeats_pattern(lowered):
        raise PasswordRefused("password_repetitive",
                              "a password that repeats one character or a short pattern")
    if _rest_after(lowered, _run_spans(lowered)) < REST_CHARS_MIN:
        raise PasswordRefused("password_sequence",
                              "a password made of keyboard or alphabet runs")
    names = _name_parts(personal)
    if any(name in lowered or name in lowered.translate(_LEET) for name in names):
        raise PasswordRefused("password_personal",
                              "a password that contains the username or display name")
    if _rest_after(lowered, [m.span() for m in _DATE.finditer(lowered)]) < REST_CHARS_MIN:
        raise PasswordRefused("password_date", "a password made mostly of a date")


def _is_common(lowered: str, common: Container[str]) -> bool:
    """The password, or its core once edge digits/symbols and leetspeak are undone."""
    core = _EDGES.sub("", lowered)
    candidates = {lowered, core, core.translate(_LEET), lowered.translate(_LEET),
                  _EDGES.sub("", lowered.translate(_LEET)), lowered.replace(" ", "")}
    return any(c in common for c in candidates if len(c) >= CORE_CHARS_MIN)


def _repeats_pattern(lowered: str) -> bool:
    n = len(lowered)
    return any(n % size == 0 and lowered == lowered[:size] * (n // size)
               for size in range(1, PATTERN_CHARS_MAX + 1))


def _run_spans(lowered: str) -> list[tuple[int, int]]:
    """Spans of at least RUN_CHARS_MIN characters, each next to the last on a sequence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(lowered) + 1):
        if i < len(lowered) and _adjacent(lowered[i - 1], lowered[i]):
            continue
        if i - start >= RUN_CHARS_MIN:
            spans.append((start, i))
        start = i
    return spans


def _adjacent(a: str, b: str) -> bool:
    pair, back = a + b, b + a
    return any(pair in seq or back in seq for seq in _SEQUENCES)


def _rest_after(text: str, spans: list[tuple[int, int]]) -> int:
    """How many characters of ``text`` no span covers."""
    covered: set[int] = set()
    for start, end in spans:
        covered.update(range(start, end))
    return len(text) - len(covered)


def _name_parts(personal: Personal) -> set[str]:
    parts = set(re.split(r"[\W_]+", personal.username.casefold()))
    parts.update(re.split(r"[\W_]+", personal.display_name.casefold()))
    parts = {p for p in parts if len(p) >= NAME_PART_CHARS_MIN}
    return parts | {personal.username.casefold()} if personal.username else parts
