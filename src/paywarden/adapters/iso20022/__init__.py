"""The official ISO 20022 schemas the platform writes messages against, shipped inside
the package (copies of ``../shared/iso20022/``; a test checks they are the same bytes),
and one loader. Messages are built as dicts and encoded by ``xmlschema``, which
validates on the way out: no XML is written by hand."""

from __future__ import annotations

import functools
from pathlib import Path

import xmlschema

_HERE = Path(__file__).parent
CAMT_053 = "camt.053.001.08"


def xsd_path(message: str) -> Path:
    return _HERE / f"{message}.xsd"


@functools.cache
def schema(message: str) -> xmlschema.XMLSchema10:
    """The parsed schema of ``message`` (e.g. ``camt.053.001.08``); parsed once."""
    return xmlschema.XMLSchema10(str(xsd_path(message)))


def namespace(message: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{message}"
