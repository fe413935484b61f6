"""A report as CSV or JSON, each a function of its seal (:func:`shows` re-renders and
compares bytes), and which format a file is in.

CSV (RFC 4180, UTF-8, CRLF): the header, one row per report row, then trailer rows whose
first field is ``#``: the summary, the seal's facts, the seal. A text cell a spreadsheet
would run as a formula gets a leading ``'``. JSON: the signed report, its facts and the
seal, sorted keys, one line.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from .seal import Sealed

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
TRAILER = "#"
SEAL_FIELD = "seal"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def format_of(data: bytes) -> str:
    head = data[:64].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"{"):
        return "json"
    return "csv"


def facts(sealed: Sealed) -> list[tuple[str, str]]:
    """The seal's facts as (name, value), in the order every format shows them."""
    head = sealed.proof.tree_head
    r = sealed.report
    return [("report_id", r.report_id), ("kind", r.kind),
            ("period", f"{r.period_from.isoformat()}/{r.period_to.isoformat()}"),
            ("report_sha256", sealed.report_sha256),
            ("audit_leaf_index", str(sealed.proof.leaf_index)),
            ("audit_tree_size", str(head.tree_size)),
            ("audit_root_hash", base64.b64encode(head.root_hash).decode("ascii")),
            ("tree_head_key_id", head.key_id), ("cited_entries", str(len(sealed.cited)))]


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(sealed: Sealed) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(sealed.report.columns)
    for row in sealed.report.rows:
        writer.writerow([_text(c) for c in row])
    for name, value in [*sealed.report.summary, *facts(sealed), (SEAL_FIELD, sealed.jws)]:
        writer.writerow((TRAILER, _text(name), _text(value)))
    return out.getvalue().encode("utf-8")


def csv_seal(data: bytes) -> str:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"not a report CSV: {type(exc).__name__}") from None
    seals = [r[2] for r in rows if len(r) == 3 and r[0] == TRAILER and r[1] == SEAL_FIELD]
    if len(seals) != 1:
        raise ValueError("the CSV has no seal row (or more than one)")
    return seals[0]


def render_json(sealed: Sealed) -> bytes:
    body: dict[str, Any] = {"report": sealed.report.data(), "facts": dict(facts(sealed)),
                            "seal": sealed.jws}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode() + b"\n"


def json_seal(data: bytes) -> str:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not a report JSON: {type(exc).__name__}") from None
    seal = body.get("seal") if isinstance(body, dict) else None
    return seal if isinstance(seal, str) else _no_seal()


def _no_seal() -> str:
    raise ValueError("the JSON has no seal")
