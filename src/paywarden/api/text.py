"""The one validator for text fields people see, and for URLs: every request schema
uses these types (rules in :mod:`paywarden.domain.text`), never a copy.

A refusal is a validation error whose ``type`` is the stable code
(``text_control_character``, ``text_bidi_control``); api/problems.py answers it
with that code.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
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


# What the OpenAPI document says of them (ECMA-262 syntax, as JSON Schema has it); the
# validators, not these patterns, decide, so that a refusal carries its own code.
_BIDI = "\\u202a-\\u202e\\u2066-\\u2069"
LINE_PATTERN = f"^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029{_BIDI}]*$"
PROSE_PATTERN = f"^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029{_BIDI}]*$"

# One line of text: no control character at all (CR, LF, NUL, C0, C1), no bidi control.
Line = Annotated[str, AfterValidator(_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]
# Paragraphs: as Line, but line feeds are allowed.
Prose = Annotated[str, AfterValidator(_prose),
                  Field(json_schema_extra={"pattern": PROSE_PATTERN})]
# A URL: one line (no CR/LF to split a Location header or a log entry).
UrlText = Line
