"""Bank statements: issued from the ledger, recorded in the audit log, sealed, and
written as CSV, ISO 20022 camt.053.001.08 or PDF (one module each); checked by
:mod:`.verify` (``paywarden banking verify-statement``). Decision 0025."""

from __future__ import annotations

from types import ModuleType

from . import camt053, csv_format, pdf

FORMATS: dict[str, ModuleType] = {"camt053": camt053, "csv": csv_format, "pdf": pdf}


def format_of(data: bytes) -> str:
    """Which format a statement file is in, from its first bytes."""
    head = data[:64].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"<"):
        return "camt053"
    return "csv"
