"""A document as data, in ``xmlschema``'s shape, built into lxml elements; and read back.

The shape is the one ``xmlschema``'s default converter reads and writes: a dict per
element whose keys are child names in the schema's order, ``"@Name"`` for an attribute,
``"$"`` for text content, a list for a repeated element, a str for a text-only element
(plain ``dict``, ``list`` and ``str``: the builder checks for exactly those); a name
written ``{namespace}Name`` is an element of another namespace (in an ``Envlp``).
``xmlschema.XMLSchema.encode`` of the same dict gives the same document (a test checks
it for every message type); it is not used at run time because it costs about 0.8 ms per
transaction where this builder and lxml's C validator cost under 0.06 ms. Either way no
XML is written as a string: lxml escapes every text and attribute, and refuses a
character XML cannot carry (a control character: ``SchemaInvalid``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from lxml import etree

from .errors import SchemaInvalid

Data = dict[str, Any]


def build(namespace: str, document: Data) -> etree._Element:
    """``{"@xmlns": ns, "Root": {...}}``'s ``Document`` element."""
    root = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    try:
        for name, value in document.items():
            if not name.startswith("@"):
                _add(root, namespace, name, value)
    except ValueError:  # lxml: "All strings must be XML compatible"
        raise SchemaInvalid("a text holds a character XML cannot carry") from None
    return root


def _add(parent: etree._Element, namespace: str, name: str, value: Any) -> None:
    # dict and list, not Mapping and Sequence: an ABC check costs more than the element
    if isinstance(value, list):
        for item in value:
            _add(parent, namespace, name, item)
        return
    # a name already qualified ("{ns}Name") is another namespace's: a SplmtryData envelope
    element = etree.SubElement(parent, name if name[0] == "{" else f"{{{namespace}}}{name}")
    if not isinstance(value, dict):
        element.text = value if isinstance(value, str) else str(value)
        return
    for key, item in value.items():
        if key == "$":
            element.text = str(item)
        elif key.startswith("@"):
            element.set(key[1:], str(item))
        else:
            _add(element, namespace, key, item)


@functools.cache
def path(namespace: str, steps: str) -> str:
    """``"A/B"`` as lxml's qualified path ``"{ns}A/{ns}B"``."""
    return "/".join(f"{{{namespace}}}{step}" for step in steps.split("/"))


class Reader:
    """Reads a validated document of one namespace by its element paths."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def all(self, element: etree._Element, steps: str) -> Sequence[etree._Element]:
        found: list[etree._Element] = element.findall(path(self.namespace, steps))
        return found

    def one(self, element: etree._Element, steps: str) -> etree._Element:
        found = element.find(path(self.namespace, steps))
        if found is None:
            raise SchemaInvalid(f"the network requires {steps}")
        return found

    def text(self, element: etree._Element, steps: str) -> str:
        """The text at ``steps``, which the network requires even where the XSD does not."""
        return self.one(element, steps).text or ""

    def optional(self, element: etree._Element, steps: str) -> str:
        """The text at ``steps``, or ``""`` when the element is absent."""
        return element.findtext(path(self.namespace, steps)) or ""
