"""Text people see: control characters and bidi overrides are refused, everything else kept."""

from __future__ import annotations

import re

import pytest

from paywarden.api.text import LINE_PATTERN, PROSE_PATTERN
from paywarden.domain.text import unsafe_text

CONTROLS = ["\x00", "\r", "\n", "\t", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize("ch", CONTROLS)
def test_a_control_character_anywhere_in_a_line_is_refused(ch: str) -> None:
    for text in (ch, f"A-10{ch}01", f"Lamp{ch}"):
        unsafe = unsafe_text(text)
        assert unsafe is not None and unsafe.code == "text_control_character"


@pytest.mark.parametrize("ch", BIDI)
def test_a_bidi_override_or_isolate_is_refused_even_in_prose(ch: str) -> None:
    for prose in (False, True):
        unsafe = unsafe_text(f"invoice{ch}fdp.exe", prose=prose)
        assert unsafe is not None and unsafe.code == "text_bidi_control"
        assert f"U+{ord(ch):04X}" in unsafe.message


def test_prose_keeps_line_feeds_and_nothing_else() -> None:
    assert unsafe_text("first paragraph\n\nsecond", prose=True) is None
    for ch in ("\r", "\x00", "\t", "\u2028"):
        assert unsafe_text(f"a\n{ch}b", prose=True) is not None


@pytest.mark.parametrize("text", ["Desk lamp", "Schreibtischlampe für 2 €", "מנורה", "مصباح",
                                  "台灯", "\u200fRLM mark", "emoji 💡", ""])
def test_ordinary_text_in_any_script_is_accepted(text: str) -> None:
    assert unsafe_text(text) is None


def test_the_patterns_the_api_documents_agree_with_the_rule() -> None:
    for code_point in (*range(0x250), *range(0x2000, 0x2070), 0xFEFF, 0x1F4A1):
        text = f"a{chr(code_point)}b"
        for pattern, prose in ((LINE_PATTERN, False), (PROSE_PATTERN, True)):
            documented = re.fullmatch(pattern, text) is not None
            assert documented == (unsafe_text(text, prose=prose) is None), hex(code_point)
