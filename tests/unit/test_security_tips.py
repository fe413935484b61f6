"""The security centre's tips: a few, tied to what just happened or to what the account shows,
and devices named from their User-Agent only as a label."""

from __future__ import annotations

import pytest

from paywarden.web.tips import RECENT_NS, TIPS_SHOWN_MAX, describe_device, security_tips

NOW = 1_800_000_000 * 10**9


def keys(**kwargs: object) -> list[str]:
    base: dict[str, object] = {"done": None, "passkeys": 2, "has_phrase": True,
                               "recent_kinds": [], "now_ns": NOW}
    return [t.key for t in security_tips(**{**base, **kwargs})]  # type: ignore[arg-type]


def test_a_settled_account_gets_no_tips() -> None:
    assert keys() == []


def test_the_tip_for_what_was_just_done_comes_first() -> None:
    assert keys(done="passkey_added", passkeys=1) == ["passkey_added", "one_passkey"]
    assert keys(done="session_revoked") == ["session_revoked"]


def test_an_unknown_done_value_picks_no_tip() -> None:
    assert keys(done="<script>") == [] and keys(done="passkey_renamed") == []


def test_a_sign_in_from_a_new_device_is_news_for_a_week_only() -> None:
    assert keys(recent_kinds=[("new_sign_in_origin", NOW - RECENT_NS + 1)]) == ["new_sign_in"]
    assert keys(recent_kinds=[("new_sign_in_origin", NOW - RECENT_NS)]) == []


def test_a_single_passkey_and_a_missing_phrase_are_pointed_out_but_never_more_than_a_few() -> None:
    shown = keys(done="others_revoked", passkeys=1, has_phrase=False,
                 recent_kinds=[("new_sign_in_origin", NOW)])
    assert len(shown) == TIPS_SHOWN_MAX and shown[0] == "others_revoked"


@pytest.mark.parametrize(("agent", "shown"), [
    (("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/131.0.0.0 Safari/537.36"), "Chrome on Linux"),
    (("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"), "Safari on iPhone"),
    (("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0 Safari/537.36 Edg/120.0"), "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0",
     "Firefox on macOS"),
    ("python-httpx/0.28.1", "a program"),
    ("", "An unknown browser"),
    ("\u202eevil\x00", "An unknown browser"),
])
def test_a_device_is_named_as_its_owner_would_say_it(agent: str, shown: str) -> None:
    assert describe_device(agent) == shown
