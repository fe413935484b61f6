"""Short security tips at the moments they matter, and devices named as people say them.

The papers ask banks to raise their customers' security awareness; a wall of advice is
not read, so the security centre shows at most :data:`TIPS_SHOWN_MAX` tips, each tied
to what just happened (a passkey added or removed, a session ended) or to what the
account shows now (a recent sign-in from a new device, a single passkey, no
anti-phishing phrase). Pure functions of what the page already read: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TIPS_SHOWN_MAX = 3
RECENT_NS = 7 * 24 * 3_600 * 1_000_000_000  # a sign-in alert is news for a week


@dataclass(frozen=True)
class Tip:
    key: str
    title: str
    body: str


# What an action reports back (``?done=…``): it only picks one of these fixed tips.
_AFTER = {
    "passkey_added": Tip(
        "passkey_added", "Your new passkey is ready",
        "Keep it on a device only you can unlock. PayWarden never asks for a passkey by "
        "email, phone or chat: approve a prompt only on a page you opened yourself."),
    "passkey_revoked": Tip(
        "passkey_revoked", "That passkey can no longer sign in",
        "If the device was lost or stolen, also sign out its sessions below, and check "
        "the recent activity for anything you did not do."),
    "session_revoked": Tip(
        "session_revoked", "That device is signed out",
        "If you did not recognise it, remove any passkey you do not recognise too: "
        "signing out a device does not stop a passkey someone else added."),
    "others_revoked": Tip(
        "others_revoked", "Every other device is signed out",
        "Only this browser is still signed in. If you did this because something looked "
        "wrong, check your passkeys below and remove any you do not recognise."),
}
NEW_SIGN_IN = Tip(
    "new_sign_in", "A sign-in from a new device or place",
    "Was it you? If not, sign that device out below and remove any passkey you do not "
    "recognise. Then tell us.")
ONE_PASSKEY = Tip(
    "one_passkey", "Add a second passkey",
    "With only one, losing that device locks you out. Add one on your phone or a security "
    "key, and keep it somewhere safe.")
NO_PHRASE = Tip(
    "no_phrase", "Choose an anti-phishing phrase",
    "Real PayWarden pages show it once you are signed in. A page that asks for your "
    "passkey and cannot show it is a fake: close it.")


def security_tips(*, done: str | None, passkeys: int, has_phrase: bool,
                  recent_kinds: Sequence[tuple[str, int]], now_ns: int) -> list[Tip]:
    """The tips for this moment, most pressing first. ``recent_kinds``: the user's
    notifications as (kind, created_at_ns), newest first."""
    tips = [_AFTER[done]] if done in _AFTER else []
    if any(kind == "new_sign_in_origin" and now_ns - at < RECENT_NS
           for kind, at in recent_kinds):
        tips.append(NEW_SIGN_IN)
    if passkeys == 1:
        tips.append(ONE_PASSKEY)
    if not has_phrase:
        tips.append(NO_PHRASE)
    return tips[:TIPS_SHOWN_MAX]


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("HeadlessChrome/", "Chrome"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
             ("Safari/", "Safari"), ("curl/", "curl"), ("python-httpx/", "a program"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"),
            ("CrOS", "ChromeOS"), ("Linux", "Linux"))
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def describe_device(user_agent: str) -> str:
    """``Chrome on Linux`` from a User-Agent header; ``An unknown browser`` if it says nothing.

    Only a label to help the owner recognise a device: a header is easily forged, so
    nothing is decided from it.
    """
    agent = _PRINTABLE.sub("", user_agent)
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "An unknown browser"
