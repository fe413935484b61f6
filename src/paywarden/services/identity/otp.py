"""Time-based one-time codes (RFC 6238) through pyotp: generating and matching them.

A code is accepted for the current 30-second step or one step either side
(clocks drift, people type slowly), and only for a step later than the last
one accepted, so each code works once — even within its own window.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from urllib.parse import quote

import pyotp

INTERVAL_S = 30
DIGITS = 6
WINDOW_STEPS = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
CODE_CHARS_MAX = 10
NS = 10**9


def new_secret() -> str:
    """A fresh base32 secret (shown once, in the otpauth URI)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def step_at(now_ns: int) -> int:
    return now_ns // NS // INTERVAL_S


def code_at(secret: str, step: int, *, digits: int = DIGITS) -> str:
    """The code for one time step (HMAC-SHA1, RFC 6238's default and what apps support)."""
    return pyotp.TOTP(secret, digits=digits, interval=INTERVAL_S).generate_otp(step)


def matching_step(secret: str, code: str, *, now_ns: int, last_step: int | None,
                  digits: int = DIGITS) -> int | None:
    """The step ``code`` is valid for, if it is within the window and newer than ``last_step``.

    Every candidate step is computed and compared in constant time, so the
    time taken does not say which step (if any) matched.
    """
    typed = code.strip().replace(" ", "")
    if len(typed) != digits or not typed.isascii() or not typed.isdigit():
        return None
    current = step_at(now_ns)
    found: int | None = None
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        same = hmac.compare_digest(code_at(secret, step, digits=digits), typed)
        if same and found is None and (last_step is None or step > last_step):
            found = step
    return found


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """What an authenticator app scans (Key URI Format), with every parameter explicit."""
    return (f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}"
            f"&issuer={quote(issuer)}&algorithm=SHA1&digits={DIGITS}&period={INTERVAL_S}")
