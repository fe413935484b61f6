"""The statement as a PDF (fpdf2): a header with the IBAN, owner and period, the
opening balance, a table of entries with running balances, the closing balance, and a
verification block with the seal's summary; the seal itself is attached to the PDF
as the embedded file ``statement-seal.jws`` (decision 0025).

What is drawn is :func:`lines` of the seal, in that order, and nothing else, so a
verifier extracts the page text (pypdf), and compares it, whitespace aside, with the
lines the signed data gives: an amount changed on the page no longer matches.

The PDF's core font (Helvetica) writes Latin-1 only; a character outside it is drawn
as ``?`` (the signed data keeps the real text, and the CSV and XML show it).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fpdf import FPDF
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .seal import Sealed
from .text import amount, seal_summary

MEDIA_TYPE = "application/pdf"
EXTENSION = "pdf"
SEAL_NAME = "statement-seal.jws"
FILE_BYTES_MAX = 64 * 1024 * 1024
PAGES_MAX = 2_000
_COLUMNS_MM = (42, 42, 50, 27, 29)  # booked at, counterparty, reference, amount, balance
_CUT = (22, 24, 30, 18, 18)  # characters that fit each column at 8 pt
_ROW_MM = 5.5


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _cut(text: str, length_max: int) -> str:
    return _latin(text if len(text) <= length_max else text[: length_max - 1] + "~")


def header_lines(sealed: Sealed) -> list[str]:
    s = sealed.statement
    return [_latin(f"Account statement {s.statement_id}"),
            _latin(f"{s.owner_name} - {s.product} account - {s.currency}"),
            f"IBAN {s.iban}",
            f"Period {s.period_from.isoformat()} to {s.period_to.isoformat()} (UTC)",
            f"Opening balance {amount(s.opening_balance_minor, s.currency)} {s.currency}"]


def entry_rows(sealed: Sealed) -> list[tuple[str, ...]]:
    s = sealed.statement
    head = ("Booked at (UTC)", "Counterparty", "Reference", "Amount", "Balance")
    rows = [tuple(_cut(v, n) for v, n in zip(
        (e.data()["booked_at"][:19].replace("T", " "), e.counterparty, e.reference,
         amount(e.amount_minor, s.currency), amount(e.balance_after_minor, s.currency)),
        _CUT, strict=True)) for e in s.entries]
    return [head, *rows]


def footer_lines(sealed: Sealed) -> list[str]:
    s = sealed.statement
    return [f"Closing balance {amount(s.closing_balance_minor, s.currency)} {s.currency}",
            "Verification",
            *(f"{name}: {value}" for name, value in seal_summary(sealed)),
            f"The signed statement is attached as {SEAL_NAME}. Check this file with:",
            "paywarden banking verify-statement FILE"]


def lines(sealed: Sealed) -> list[str]:
    """Every text drawn, in drawing order."""
    return [*header_lines(sealed), *(c for row in entry_rows(sealed) for c in row),
            *footer_lines(sealed)]


def render(sealed: Sealed) -> bytes:
    s = sealed.statement
    moment = datetime.fromtimestamp(s.generated_at_ns // 1_000_000_000, UTC)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(moment)
    pdf.set_title(_latin(f"Statement {s.statement_id}"))
    pdf.set_author("PayWarden")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    first, *rest = header_lines(sealed)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 9, first, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in rest:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for i, row in enumerate(entry_rows(sealed)):
        pdf.set_font("Helvetica", style="B" if i == 0 else "", size=8)
        for j, (text, width) in enumerate(zip(row, _COLUMNS_MM, strict=True)):
            last = j == len(row) - 1
            pdf.cell(width, _ROW_MM, text, border="B", align="R" if j >= 3 else "L",
                     new_x="LMARGIN" if last else "RIGHT", new_y="NEXT" if last else "TOP")
    pdf.ln(3)
    closing, title, *facts = footer_lines(sealed)
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.cell(0, 6, closing, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", size=7)
    for line in facts:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=sealed.jws.encode("ascii"), basename=SEAL_NAME,
                   modification_date=moment, mime_type="application/jose",
                   desc="PayWarden statement seal (JWS)")
    return bytes(pdf.output())


def _reader(data: bytes) -> PdfReader:
    if len(data) > FILE_BYTES_MAX:
        raise ValueError(f"the PDF is larger than {FILE_BYTES_MAX} bytes")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if len(reader.pages) > PAGES_MAX:
            raise ValueError(f"the PDF has more than {PAGES_MAX} pages")
    except PyPdfError as exc:
        raise ValueError(f"not a readable PDF: {type(exc).__name__}") from None
    return reader


def read_seal(data: bytes) -> str:
    try:
        found = _reader(data).attachments.get(SEAL_NAME)
    except PyPdfError as exc:
        raise ValueError(f"not a readable PDF: {type(exc).__name__}") from None
    if not found or len(found) != 1:
        raise ValueError(f"the PDF has no attachment {SEAL_NAME} (or more than one)")
    try:
        return found[0].decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("the attached seal is not ASCII") from None


def _squeezed(text: str) -> str:
    return "".join(text.split())


def shows(data: bytes, sealed: Sealed) -> bool:
    """The pages' text is the signed statement's, whitespace aside."""
    try:
        text = "".join(page.extract_text() for page in _reader(data).pages)
    except PyPdfError as exc:
        raise ValueError(f"not a readable PDF: {type(exc).__name__}") from None
    return _squeezed(text) == _squeezed("".join(lines(sealed)))
