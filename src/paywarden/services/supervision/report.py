"""A supervision report: one table of text cells, each row citing the audit entry that
recorded its object, and the facts a reader checks it by. Pure data, no I/O.

Every cell is text (amounts are integer minor units written in decimal), so the CSV,
the PDF and the JSON all show the same characters and the report's SHA-256 is over
exactly what a supervisor sees. The last two columns of every kind are ``object`` (the
id the row is about) and ``audit_leaf`` (the index of the audit entry that recorded it,
empty when the log holds none): ``paywarden supervision verify`` checks that the leaf
names that object and is in the signed tree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from ...domain.audit.leaves import canonical

CITATION_COLUMNS = ("object", "audit_leaf")


@dataclass(frozen=True)
class Report:
    report_id: str
    kind: str
    title: str
    period_from: date
    period_to: date
    generated_at_ns: int
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    summary: tuple[tuple[str, str], ...]  # (name, value): totals and settings used

    def data(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "kind": self.kind, "title": self.title,
                "from": self.period_from.isoformat(), "to": self.period_to.isoformat(),
                "generated_at_ns": str(self.generated_at_ns), "columns": list(self.columns),
                "rows": [list(r) for r in self.rows],
                "summary": [list(s) for s in self.summary]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Report:
        """ValueError unless ``data`` is a well-formed report (every cell text)."""
        try:
            columns = tuple(_texts(data["columns"]))
            rows = tuple(tuple(_texts(r)) for r in data["rows"])
            summary = tuple(_pair(s) for s in data["summary"])
            report = cls(report_id=_text(data["report_id"]), kind=_text(data["kind"]),
                         title=_text(data["title"]),
                         period_from=date.fromisoformat(_text(data["from"])),
                         period_to=date.fromisoformat(_text(data["to"])),
                         generated_at_ns=int(_text(data["generated_at_ns"])),
                         columns=columns, rows=rows, summary=summary)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a supervision report: {type(exc).__name__}") from None
        if columns[-2:] != CITATION_COLUMNS or any(len(r) != len(columns) for r in rows):
            raise ValueError("not a supervision report: rows do not fit the columns")
        return report

    def citations(self) -> list[tuple[str, int]]:
        """(object, audit leaf index) of every row that cites an entry."""
        return [(r[-2], int(r[-1])) for r in self.rows if r[-1]]


def digest(report: Report) -> str:
    """SHA-256 (hex) of the report's canonical JSON: what its own audit leaf records."""
    return hashlib.sha256(canonical(report.data())).hexdigest()


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("a cell is not text")
    return value


def _texts(values: Any) -> list[str]:
    if type(values) is not list:
        raise TypeError("not a list")
    return [_text(v) for v in values]


def _pair(value: Any) -> tuple[str, str]:
    name, text = _texts(value)
    return name, text
