"""The package ships the official ISO 20022 schemas: every XSD of ../shared/iso20022,
byte for byte, so the running platform validates against exactly what tests do."""

from __future__ import annotations

from pathlib import Path

import pytest

from paywarden.adapters.iso20022 import xsd_path
from paywarden.domain.clearing.messages import MessageType

SHARED = Path(__file__).parents[3] / "shared" / "iso20022"
SHIPPED = sorted(p.stem for p in xsd_path("x").parent.glob("*.xsd"))


def test_the_package_ships_every_official_schema_byte_for_byte() -> None:
    if not SHARED.exists():
        pytest.skip("no ../shared/iso20022 beside this checkout")
    official = sorted(p.stem for p in SHARED.glob("*.xsd"))
    assert SHIPPED == official
    for name in official:
        assert xsd_path(name).read_bytes() == (SHARED / f"{name}.xsd").read_bytes(), name


def test_every_clearing_message_type_has_its_schema_in_the_package() -> None:
    assert {kind.value for kind in MessageType} <= set(SHIPPED)
