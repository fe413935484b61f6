"""IBANs for the bank's accounts, made and checked with ``schwifty``.

An account's IBAN is the bank's country and bank code (``bank_country``, ``bank_code``
in the settings) and a random account number of the country's length; the check
digits are schwifty's (ISO 13616, mod 97). Whether an IBAN is ours is decided by its
country and bank code, so a customer can name another bank's account by IBAN too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from ...domain.errors import DomainError

IBAN_CHARS_MAX = 34


@dataclass(frozen=True)
class BankCode:
    country: str  # ISO 3166 alpha-2, e.g. "NL"
    code: str  # the bank code within the country, e.g. "PAYW"

    def new_iban(self) -> str:
        """A fresh IBAN at this bank (the caller retries on the rare collision)."""
        length = _account_code_length(self.country, self.code)
        number = "".join(secrets.choice("0123456789") for _ in range(length))
        return str(IBAN.generate(self.country, bank_code=self.code, account_code=number))

    def owns(self, iban: str) -> bool:
        parsed = IBAN(iban, allow_invalid=True)
        return parsed.country_code == self.country and parsed.bank_code == self.code


def _account_code_length(country: str, bank_code: str) -> int:
    """The account number's length in ``country`` (the BBAN less the bank code)."""
    sample = IBAN.generate(country, bank_code=bank_code, account_code="0")
    return len(sample.account_code)


def normalise(text: str) -> str:
    """``text`` as an IBAN in its electronic form (no spaces, upper case), or
    ``iban_invalid`` when its country, length or check digits are wrong."""
    if not isinstance(text, str) or len(text) > IBAN_CHARS_MAX + 8:
        raise DomainError("iban_invalid", "that is not an IBAN")
    return _parsed(text)


# schwifty's parse (its registry lookups, the mod-97 check) was a tenth of a screening's
# CPU, and a screening normalises the payee's IBAN every time; a valid one is remembered
# (an invalid one raises, and is not).
@lru_cache(maxsize=16_384)
def _parsed(text: str) -> str:
    try:
        return str(IBAN(text))
    except SchwiftyException:
        raise DomainError("iban_invalid", "that IBAN's country, length or check digits are "
                          "wrong") from None
