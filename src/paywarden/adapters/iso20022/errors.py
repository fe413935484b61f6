"""Why a document is refused. Each detail is short and safe to answer with: it names the
rule broken, never the document's content (which may be hostile) nor a secret.

    DomainError
    └── MessageInvalid          a document the network does not read
          ├── UnsafeXml         message_unsafe_xml: a DTD, an entity, over the size bound
          └── SchemaInvalid     message_schema_invalid: not well-formed, not valid against
                                the XSD, or valid but outside what the network carries
"""

from __future__ import annotations

from ...domain.errors import DomainError


class MessageInvalid(DomainError):
    """A document refused before anything acts on it."""


class UnsafeXml(MessageInvalid):
    def __init__(self, detail: str) -> None:
        super().__init__("message_unsafe_xml", detail)


class SchemaInvalid(MessageInvalid):
    def __init__(self, detail: str) -> None:
        super().__init__("message_schema_invalid", detail)
