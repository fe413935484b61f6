"""A report as a PDF (fpdf2, landscape A4): title and period, one wrapped line per row
(cells joined by `` | ``), the summary, and the seal's facts; the seal attached as
``report-seal.jws``. What is drawn is :func:`lines` and nothing else, so the verifier
compares the page text (pypdf) with the signed data, whitespace aside (decision 0025's
check; invisible text added beside it is not caught: the attached seal is the authority).
Characters outside Latin-1 are drawn as ``?``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fpdf import FPDF
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .formats import facts
from .seal import Sealed

MEDIA_TYPE = "application/pdf"
SEAL_NAME = "report-seal.jws"
FILE_BYTES_MAX = 64 * 1024 * 1024
PAGES_MAX = 5_000
COMMAND = "paywarden supervision verify FILE --url https://<platform>"


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def lines(sealed: Sealed) -> list[str]:
    r = sealed.report
    return [_latin(f"{r.title} - {r.report_id}"),
            f"Period {r.period_from.isoformat()} to {r.period_to.isoformat()} (UTC)",
            _latin(" | ".join(r.columns)),
            *(_latin(" | ".join(row)) for row in r.rows),
            "Summary", *(_latin(f"{n}: {v}") for n, v in r.summary),
            "Verification", *(f"{n}: {v}" for n, v in facts(sealed)),
            f"The signed report is attached as {SEAL_NAME}. Check it with:", COMMAND]


def render(sealed: Sealed) -> bytes:
    r = sealed.report
    moment = datetime.fromtimestamp(r.generated_at_ns // 1_000_000_000, UTC)
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_creation_date(moment)
    pdf.set_title(_latin(f"{r.title} {r.report_id}"))
    pdf.set_author("PayWarden")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    title, period, header, *rest = lines(sealed)
    pdf.set_font("Helvetica", style="B", size=13)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, period, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", style="B", size=7)
    pdf.multi_cell(0, 3.5, header, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", size=7)
    for line in rest:
        pdf.multi_cell(0, 3.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=sealed.jws.encode("ascii"), basename=SEAL_NAME,
                   modification_date=moment, mime_type="application/jose",
                   desc="PayWarden supervision report seal (JWS)")
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


def shows(data: bytes, sealed: Sealed) -> bool:
    try:
        text = "".join(page.extract_text() for page in _reader(data).pages)
    except PyPdfError as exc:
        raise ValueError(f"not a readable PDF: {type(exc).__name__}") from None
    return "".join(text.split()) == "".join("".join(lines(sealed)).split())
