"""Recovery codes: how they look and how a typed one is read back.

A code is 80 random bits written as 16 characters of Crockford's base32 in four
groups (``7K3M-Q9TX-0FZP-2H4W``): no I, L, O or U to misread, and what a user
types is forgiving — any case, spaces or dashes anywhere, O for 0, I or L for 1.
"""

from __future__ import annotations

CODES_PER_SET = 10
CODE_BYTES = 10  # 80 bits
GROUP_CHARS = 4
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_CHARS = CODE_BYTES * 8 // 5
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def format_code(raw: bytes) -> str:
    """The printed form of ``CODE_BYTES`` random bytes."""
    if len(raw) != CODE_BYTES:
        raise ValueError(f"a recovery code is made of {CODE_BYTES} random bytes, not {len(raw)}")
    number = int.from_bytes(raw, "big")
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_CODE_CHARS)))
    return "-".join(chars[i:i + GROUP_CHARS] for i in range(0, _CODE_CHARS, GROUP_CHARS))


def normalise_code(typed: str) -> str | None:
    """The canonical form of what a user typed, or None if it cannot be a code."""
    chars = "".join(c for c in typed.upper() if c not in " -").translate(_TYPOS)
    if len(chars) != _CODE_CHARS or any(c not in _ALPHABET for c in chars):
        return None
    return "-".join(chars[i:i + GROUP_CHARS] for i in range(0, _CODE_CHARS, GROUP_CHARS))
