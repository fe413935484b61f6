"""The dashboard's charts: SVG drawn on the server by pygal, with no script in it.

pygal writes a chart as an SVG document with one ``<style>`` element, a ``<script>`` that
would load its tooltip code, and the tooltip's group. We drop the script and the tooltip
(the page shows each chart's figures in a table instead), refuse any reference that
would leave this origin, and send the SVG with a Content-Security-Policy of its own that
allows exactly its one stylesheet by hash: no script, no inline style attribute, nothing
loaded. An SVG shown by ``<img>`` runs no script anyway; the policy also holds when the
SVG is opened on its own, where a browser would run a script (decision 0050).
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pygal
from pygal.etree import etree as pygal_etree
from pygal.style import Style

from ..domain.errors import InvariantViolation
from ..services.dashboard import DECISIONS, QUEUES, Snapshot

# pygal appends to sys.meta_path a finder for its map plugins that has only the legacy
# find_module(): from then on every import that no other finder answers warns
# (ImportWarning), which strict runs turn into errors. We draw no maps: take it out.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

# pygal draws with lxml whenever lxml is installed (the ISO 20022 codec brought it), and
# an lxml tree written by xml.etree loses the SVG namespace: browsers then decode no
# image at all. We clean and write the tree with xml.etree, so pygal draws with it too.
pygal_etree.to_etree()

SVG_NS = "{http://www.w3.org/2000/svg}"
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
LABEL_EVERY_HOURS = 3  # x-axis labels every three hours, so 24 of them stay legible
FOREIGN = re.compile(r"https?:|data:|javascript:|@import|url\(\s*['\"]?[^#\s'\"]", re.IGNORECASE)
STYLE = Style(
    background="transparent", plot_background="#ffffff", foreground="#1f2933",
    foreground_strong="#1f2933", foreground_subtle="#c4ccd4", opacity="0.9",
    opacity_hover="0.9", transition="none",
    colors=("#1f5fa8", "#c0392b", "#d68910", "#1e8449", "#6c3483", "#5d6d7e"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=15, major_label_font_size=15, legend_font_size=16,
    title_font_size=20, value_font_size=14, tooltip_font_size=14)


@dataclass(frozen=True)
class Chart:
    svg: bytes
    csp: str  # this SVG's own policy: its one stylesheet, by hash


def _options() -> dict[str, Any]:
    return {"style": STYLE, "js": [], "width": 760, "height": 340, "margin": 12,
            "margin_bottom": 30,  # pygal leaves too little room for a legend under the axis
            "legend_at_bottom": True, "legend_at_bottom_columns": 4,
            "x_labels_major_every": LABEL_EVERY_HOURS, "show_minor_x_labels": False,
            "truncate_label": -1, "print_values": False, "disable_xml_declaration": True,
            "include_x_axis": True, "min_scale": 1, "max_scale": 6}


def hour_label(start_ns: int) -> str:
    return datetime.fromtimestamp(start_ns // 1_000_000_000, UTC).strftime("%H:00")


def _clean(tree: ET.Element) -> str:
    """Drop the script, the tooltip and pygal's comments (its web addresses); the one
    stylesheet's text, checked local."""
    styles: list[str] = []
    for parent in list(tree.iter()):
        for child in list(parent):
            tag = str(child.tag).removeprefix(SVG_NS)
            comment = not isinstance(child.tag, str)  # ET.Comment: its tag is a function
            if comment or tag == "script" or "tooltip" in (child.get("class") or "").split():
                parent.remove(child)
            elif tag == "style":
                styles.append(child.text or "")
    for element in tree.iter():
        element.attrib.pop("style", None)
        for name, value in element.attrib.items():
            if name.startswith("xmlns") and value in NAMESPACES:
                continue
            if "href" in name or FOREIGN.search(value):
                raise InvariantViolation(f"chart attribute {name} refers outside the page")
    if len(styles) != 1 or FOREIGN.search(styles[0]):
        raise InvariantViolation("a chart must carry exactly one local stylesheet")
    return styles[0]


def render(chart: Any) -> Chart:
    """The chart as SVG bytes with its policy (see the module docstring)."""
    tree = chart.render_tree()
    style = _clean(tree)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; "
           "script-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
    return Chart(ET.tostring(tree, encoding="utf-8", xml_declaration=True), csp)


def _labels(chart: Any, snapshot: Snapshot) -> None:
    chart.x_labels = [hour_label(h.start_ns) for h in snapshot.hours]


def volume(snapshot: Snapshot) -> Any:
    chart = pygal.StackedBar(**_options(), title="Payments paid per hour, by currency")
    _labels(chart, snapshot)
    currencies = sorted({c for h in snapshot.hours for c in h.volume})
    for currency in currencies or ["none"]:
        chart.add(currency, [h.volume[currency].count if currency in h.volume else 0
                             for h in snapshot.hours])
    return chart


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def rates(snapshot: Snapshot) -> Any:
    chart = pygal.Line(**_options(), title="Decline, dispute and refund rates (%)",
                       allow_interruptions=True, dots_size=3,
                       value_formatter=lambda v: f"{v:g} %")
    _labels(chart, snapshot)
    chart.add("declines", [_percent(h.decline_rate) for h in snapshot.hours])
    chart.add("disputes", [_percent(h.dispute_rate) for h in snapshot.hours])
    chart.add("refunds", [_percent(h.refund_rate) for h in snapshot.hours])
    return chart


def risk(snapshot: Snapshot) -> Any:
    chart = pygal.StackedBar(**_options(), title="Risk decisions per hour")
    _labels(chart, snapshot)
    for outcome in DECISIONS:
        chart.add(outcome.replace("_", "-"), [h.decisions.get(outcome, 0)
                                              for h in snapshot.hours])
    return chart


def ledger(snapshot: Snapshot) -> Any:
    chart = pygal.Bar(**_options(), title="Ledger transfers committed per hour")
    _labels(chart, snapshot)
    chart.add("transfers", [h.transfers for h in snapshot.hours])
    return chart


def queues(snapshot: Snapshot) -> Any:
    options = {**_options(), "show_legend": False, "height": 260}
    chart = pygal.HorizontalBar(**options, title="Queue depths now")
    chart.x_labels = [q.replace("_", " ") for q in QUEUES]
    depth = {q.name: q.depth for q in snapshot.queues}
    chart.add("waiting", [depth.get(q, 0) for q in QUEUES])
    return chart


CHARTS: dict[str, tuple[str, Callable[[Snapshot], Any]]] = {
    "volume": ("Payment volume", volume),
    "rates": ("Decline, dispute and refund rates", rates),
    "risk": ("Risk decisions", risk),
    "ledger": ("Ledger throughput", ledger),
    "queues": ("Queue depths", queues),
}
