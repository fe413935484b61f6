"""Every escrow state has plain words for the buyer, on the payments page and on the
checkout page — a payment under review reads as being checked, not as an error."""

from __future__ import annotations

import re
from pathlib import Path

from paywarden.domain.escrow import State
from paywarden.web.payments import STATES

CHECKOUT_JS = Path(__file__).parents[2] / "src/paywarden/web/static/checkout.js"


def test_the_payments_page_words_every_state_and_says_a_review_is_a_check() -> None:
    assert set(STATES) == {str(s) for s in State}
    title, words = STATES["under_review"]
    assert title == "Being checked" and "security check" in words and "need do nothing" in words
    assert "returned to you" in STATES["declined"][1]


def test_the_checkout_page_words_every_state_a_paid_order_can_be_in() -> None:
    source = CHECKOUT_JS.read_text()
    block = source[source.index("const STATES = {"):]
    block = block[:block.index("\n};")]
    keys = set(re.findall(r"^  ([a-z_]+):", block, re.MULTILINE))
    assert keys == {str(s) for s in State} - {"created"}
    assert 'paid.state === "under_review"' in source, "the answer to a pay is read for review"
