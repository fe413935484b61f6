"""Which usernames may be taken: PRECIS, one script, and no look-alike of another's.

A username is what a person is known by on pages, in the back office and in
audit records, so one that looks like another ("pаypal" with a Cyrillic a,
"paypa1" beside "paypal") is an impersonation waiting to happen. Three rules,
each from a kept library rather than a table of our own:

- RFC 8265 UsernameCaseMapped (``precis-i18n``): width and case mapped, NFC,
  and refused if it holds what the profile disallows (spaces, symbols,
  compatibility characters such as "ﬁ", controls, bidi overrides).
- One script (``confusable-homoglyphs``, from Unicode's Scripts.txt): letters
  of two scripts in one name are refused; digits and punctuation are common.
- No look-alike (the same library, from Unicode's confusables.txt, UTS #39):
  a name whose every non-ASCII character has an ASCII twin is refused outright,
  as it can only be there to pass for an ASCII name, whether that name exists
  yet or not; and a name is refused if an existing one differs from it only by
  ASCII twins (``l`` / ``1``). The second check looks up the spellings a reader
  could take the name for in the username blind index, so it needs no new column.

What is stored and looked up stays :func:`.users.normalise_username` of the
PRECIS form (NFKC, case-folded), so every existing account signs in as before.
"""

from __future__ import annotations

import itertools
import string

from confusable_homoglyphs import confusables
from precis_i18n import get_profile

from ...domain.errors import DomainError

LOOKALIKES_MAX = 256  # spellings of one name checked against the index (8 of l / 1)
_PROFILE = get_profile("UsernameCaseMapped")
_ASCII = frozenset(string.ascii_lowercase + string.digits + string.punctuation)
_TWINS = frozenset(string.ascii_lowercase + string.digits)  # what a look-alike imitates


def precis_form(username: str) -> str:
    """The RFC 8265 UsernameCaseMapped form of ``username``; ``username_invalid`` if none."""
    try:
        return str(_PROFILE.enforce(username))
    except UnicodeError as exc:
        reason = str(exc.reason) if isinstance(exc, UnicodeEncodeError) else "not allowed"
        raise DomainError("username_invalid", "a username is letters, digits and "
                          f"punctuation without spaces ({reason})") from None


def check_admissible(name: str) -> None:
    """Refuse a (PRECIS-formed) name of mixed scripts or made of ASCII look-alikes."""
    if confusables.is_mixed_script(name):
        raise DomainError("username_mixed_script", "a username is written in one script: "
                          "it mixes letters of several")
    foreign = [ch for ch in name if ch not in _ASCII]
    if foreign and all(_ascii_twins(ch) for ch in foreign):
        twin = "".join(ch if ch in _ASCII else min(_ascii_twins(ch)) for ch in name)
        raise DomainError("username_confusable", f"this username looks like {twin!r}; "
                          "choose one that does not")


def lookalikes(name: str) -> list[str]:
    """Other spellings a reader could take ``name`` for, ``name`` itself excluded."""
    choices = [sorted({ch} | _ascii_twins(ch)) if ch in _ASCII else [ch] for ch in name]
    count = 1
    for options in choices:
        count *= len(options)
    if count > LOOKALIKES_MAX:
        raise DomainError("username_confusable", "this username has too many characters "
                          "that look alike (such as l and 1); choose another")
    return ["".join(spelling) for spelling in itertools.product(*choices)
            if "".join(spelling) != name]


def _ascii_twins(ch: str) -> set[str]:
    found = confusables.confusables_data.get(ch, ())
    return {h["c"] for h in found if h["c"] in _TWINS and h["c"] != ch}
