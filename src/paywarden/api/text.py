"""The one validator for text fields people see, and for URLs: every request schema
uses these types (rules in :mod:`paywarden.domain.text`), never a copy.

A refusal is a validation error whose ``type`` is the stable code
(``text_control_character``, ``text_bidi_control``); api/problems.py answers it
with that code.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from ..domain.text import unsafe_text

TEXT_CODES = frozenset({"text_control_character", "text_bidi_control"})


def _line(value: str) -> str:
    return _checked(value, prose=False)


def _prose(value: str) -> str:
    return _checked(value, prose=True)


def _checked(value: str, *, prose: bool) -> str:
    unsafe = unsafe_text(value, prose=prose)
    if unsafe is not None:
        raise PydanticCustomError(unsafe.code, unsafe.message)
    return value


# One line of text: no control character at all (CR, LF, NUL, C0, C1), no bidi control.
Line = Annotated[str, AfterValidator(_line)]
# Paragraphs: as Line, but line feeds are allowed.
Prose = Annotated[str, AfterValidator(_prose)]
# A URL: one line (no CR/LF to split a Location header or a log entry).
UrlText = Line
