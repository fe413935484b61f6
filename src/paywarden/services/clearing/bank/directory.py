"""Which bank an IBAN belongs to: the creditor agent's BIC a pacs.008 must name.

The hub routes by that BIC alone (decision 0053), so the payer bank looks it up from
the creditor's IBAN: first the network's own directory (``clearing_directory``: IBAN
country + bank code → BIC, for the participants the public directory cannot know),
then the BIC directory that ``schwifty`` ships for real banks.
"""

from __future__ import annotations

from collections.abc import Mapping

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from ....domain.clearing.messages import BIC_PATTERN


def parse_hub(text: str) -> tuple[str, str]:
    """``"PAYHNL2A=http://127.0.0.1:8101"`` → (BIC, url); a ValueError says what is wrong."""
    bic, sep, url = text.partition("=")
    if not sep or not BIC_PATTERN.match(bic) or not url.startswith(("http://", "https://")):
        raise ValueError("clearing_hub is BIC=url, e.g. PAYHNL2A=http://127.0.0.1:8101")
    return bic, url


class Directory:
    def __init__(self, entries: Mapping[str, str]) -> None:
        for key, bic in entries.items():
            if not BIC_PATTERN.match(bic):
                raise ValueError(f"clearing_directory: {bic!r} for {key!r} is not a BIC")
        self._entries = dict(entries)

    def bic_for(self, iban: str) -> str | None:
        """The BIC of the bank holding ``iban``, or None when no directory knows it."""
        try:
            parsed = IBAN(iban, allow_invalid=True)
        except SchwiftyException:
            return None
        known = self._entries.get(parsed.country_code + parsed.bank_code)
        if known is not None:
            return known
        try:
            found = parsed.bic
        except SchwiftyException:
            return None
        return None if found is None else str(found)
