"""Supervision: the regulator's read-only reports (decision 0047). Each report is built
from its source (one module per kind), cites the audit entries of the objects it lists,
is recorded as an audit entry itself, and is sealed with the tree head and every
proof (:mod:`.seal`); written as CSV, JSON (:mod:`.formats`) or PDF (:mod:`.pdf`) and
checked by :mod:`.verify` (``paywarden supervision verify``)."""

from __future__ import annotations

from collections.abc import Callable

from . import formats, pdf
from .seal import Sealed

RENDERERS: dict[str, tuple[Callable[[Sealed], bytes], str, str]] = {
    "csv": (formats.render_csv, formats.CSV_MEDIA_TYPE, "csv"),
    "json": (formats.render_json, formats.JSON_MEDIA_TYPE, "json"),
    "pdf": (pdf.render, pdf.MEDIA_TYPE, "pdf"),
}
