"""The statement as CSV (RFC 4180, UTF-8, CRLF): one row per balance and entry, then a
trailer of rows whose first field is ``#``: the seal's facts and the seal itself.

    type,booked_at,entry_id,counterparty,reference,amount,currency,balance
    opening,2026-01-01,,,,,EUR,100.00
    entry,2026-01-02T09:00:00.000000000Z,t1,Ada,rent,-30.00,EUR,70.00
    closing,2026-01-31,,,,,EUR,70.00
    #,statement_sha256,3f…
    #,seal,eyJ…

A text cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab,
CR first) is written with a leading ``'``: a counterparty named ``=HYPERLINK(…)`` stays
text. The file is a function of its seal: :func:`shows` renders the seal again and
compares bytes.
"""

from __future__ import annotations

import csv
import io

from .seal import Sealed
from .text import amount, seal_summary

MEDIA_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
HEADER = ("type", "booked_at", "entry_id", "counterparty", "reference", "amount", "currency",
          "balance")
TRAILER = "#"
SEAL_FIELD = "seal"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render(sealed: Sealed) -> bytes:
    s = sealed.statement
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerow(("opening", s.period_from.isoformat(), "", "", "", "", s.currency,
                     amount(s.opening_balance_minor, s.currency)))
    for e in s.entries:
        writer.writerow(("entry", e.data()["booked_at"], _text(e.entry_id),
                         _text(e.counterparty), _text(e.reference),
                         amount(e.amount_minor, s.currency), s.currency,
                         amount(e.balance_after_minor, s.currency)))
    writer.writerow(("closing", s.period_to.isoformat(), "", "", "", "", s.currency,
                     amount(s.closing_balance_minor, s.currency)))
    for name, value in [("iban", s.iban), ("owner", _text(s.owner_name)),
                        ("period", f"{s.period_from.isoformat()}/{s.period_to.isoformat()}"),
                        *seal_summary(sealed), (SEAL_FIELD, sealed.jws)]:
        writer.writerow((TRAILER, name, value))
    return out.getvalue().encode("utf-8")


def read_seal(data: bytes) -> str:
    """The JWS in the trailer; ValueError if there is none."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"not a statement CSV: {type(exc).__name__}") from None
    seals = [r[2] for r in rows if len(r) == 3 and r[0] == TRAILER and r[1] == SEAL_FIELD]
    if len(seals) != 1:
        raise ValueError("the CSV has no seal row (or more than one)")
    return seals[0]


def shows(data: bytes, sealed: Sealed) -> bool:
    """The file is exactly what the seal renders to: no row added, removed or changed."""
    return data == render(sealed)
