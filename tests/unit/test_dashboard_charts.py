"""The dashboard's SVG charts carry no script and nothing from outside, and their own
policy allows exactly their one stylesheet by hash."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest

from paywarden.domain.errors import InvariantViolation
from paywarden.services.dashboard import QUEUES, Hour, Queue, Snapshot, Volume
from paywarden.web import charts

START_NS = 1_767_225_600_000_000_000


def snapshot() -> Snapshot:
    hours = [Hour(START_NS + i * 3_600 * 10**9) for i in range(24)]
    hours[5].volume["EUR"] = Volume(3, 7_000)
    hours[5].pays, hours[5].disputes, hours[5].transfers = 3, 1, 9
    return Snapshot(START_NS, hours, [Queue(q, 2, False) for q in QUEUES])


@pytest.mark.parametrize("name", sorted(charts.CHARTS))
def test_a_chart_has_no_script_no_style_attribute_and_its_style_hash_in_its_policy(
        name: str) -> None:
    drawn = charts.render(charts.CHARTS[name][1](snapshot()))
    tree = ET.fromstring(drawn.svg)
    assert tree.tag == "{http://www.w3.org/2000/svg}svg"  # else a browser draws nothing
    tags = {str(e.tag).split("}")[-1] for e in tree.iter()}
    assert "script" not in tags and not any(e.get("style") for e in tree.iter())
    assert not any("tooltip" in (e.get("class") or "").split() for e in tree.iter())
    assert b"http://" not in drawn.svg.replace(
        b'xmlns="http://www.w3.org/2000/svg"', b"")
    style = next(e.text or "" for e in tree.iter() if str(e.tag).endswith("style"))
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in drawn.csp
    assert "script-src 'none'" in drawn.csp and "'unsafe-inline'" not in drawn.csp


def test_a_chart_referring_to_another_origin_is_refused() -> None:
    chart = charts.pygal.Bar(  # pygal only through charts: it fixes pygal's import hook
        **charts._options(), css=["inline:@import url(https://evil.example/x.css);"])
    chart.x_labels = ["a"]
    chart.add("a", [1])
    with pytest.raises(InvariantViolation):
        charts.render(chart)
