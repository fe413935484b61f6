"""Text that people are shown: no control characters, no bidi overrides or isolates.

A control character in a field that ends up on a page, in a receipt, a log line,
an e-mail or a CSV export does something other than be read: CR/LF split a
header or a log entry, NUL cuts a string short in C code downstream, ESC drives
a terminal. Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder
what is displayed, so "Lamp" can be shown where another text is stored (the
"Trojan Source" trick, CVE-2021-42574). Neither has a use in an order reference,
an item name or a display name, so both are refused, not stripped: a stored value
is exactly what was sent.

Prose (a dispute statement, a postal address) may keep line feeds; nothing else.
Right-to-left scripts need none of the refused characters: the bidi algorithm
orders them by itself, and the marks (U+200E, U+200F, U+061C) remain allowed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
LINE_BREAKS = frozenset("\u2028\u2029")  # line and paragraph separators: a CR/LF by another name


@dataclass(frozen=True)
class UnsafeText:
    """Why a text was refused: a stable code and a message naming the character."""

    code: str  # text_control_character | text_bidi_control
    message: str


def unsafe_text(value: str, *, prose: bool = False) -> UnsafeText | None:
    """The first reason ``value`` may not be shown to people, or None if it may.

    ``prose`` allows line feeds (U+000A) and nothing more.
    """
    for position, ch in enumerate(value):
        if ch in BIDI_CONTROLS:
            return UnsafeText("text_bidi_control", f"{_named(ch)} at position {position} "
                              "reorders how the text is shown; it is not accepted")
        if (unicodedata.category(ch) == "Cc" or ch in LINE_BREAKS) and not (
                prose and ch == "\n"):
            allowed = " (line feeds are)" if prose else ""
            return UnsafeText("text_control_character", f"{_named(ch)} at position "
                              f"{position} is a control character, not accepted here"
                              f"{allowed}")
    return None


def _named(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")
