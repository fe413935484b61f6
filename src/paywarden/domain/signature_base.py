"""The RFC 9421 signature base, built by hand for the components merchants may cover.

``http-message-signatures`` parsed Signature-Input and Signature a second and
third time, resolved every component through a general resolver and
re-serialised the parameters: about half of what a signed request cost beyond
the Ed25519 check itself. The base is only string building (RFC 9421 section
2.5), so it is built here from the one parse the verifier already made; the
signature is still checked by ``cryptography``'s Ed25519, never by us.

What may be covered is narrow on purpose (decision 0007): ``"@method"``,
``"@target-uri"`` and header fields, each named once, in lower case, with no
component parameters (``;sf``, ``;key``, ``;bs``, ``;req``, ``;tr`` are refused).
So every component is one of three plain strings, and nothing an attacker sends
can select another way of resolving it. Tests prove the base equal to the
library's for every accepted shape, and to RFC 9421's own example (B.2.6).

Errors: :class:`BaseRefused` (a message this module will not build a base
for); its ``detail`` says why, without echoing header values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

DERIVED = frozenset({"@method", "@target-uri"})  # the only derived components accepted


class BaseRefused(ValueError):
    """No signature base can be built for this message: the request is malformed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def sf_string(value: str) -> str:
    """A Structured Field String (RFC 8941 section 4.1.6); ``value`` is printable ASCII."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_params(covered: Sequence[str], params: Mapping[str, int | str]) -> str:
    """The ``"@signature-params"`` value: the inner list and its parameters, in the order
    the signer gave them (RFC 9421 section 2.3), serialised canonically."""
    serialised = "(" + " ".join(sf_string(name) for name in covered) + ")"
    for name, value in params.items():
        if type(value) is int:
            serialised += f";{name}={value}"
        elif isinstance(value, str):
            serialised += f";{name}={sf_string(value)}"
        else:
            raise BaseRefused(f"signature parameter {name!r} is neither an integer nor a string")
    return serialised


def field_value(lines: Iterable[tuple[str, str]], name: str) -> str | None:
    """A header field's value as RFC 9421 section 2.1 covers it: every line of that name,
    trimmed, joined by ", " in the order received; None when the field is absent."""
    values = [value.strip(" \t") for field, value in lines if field.lower() == name]
    return ", ".join(values) if values else None


def component_values(covered: Sequence[str], *, method: str, target_uri: str,
                     lines: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each covered component with its value from this request, in the covered order."""
    if method != method.upper():
        raise BaseRefused("the request method is not in upper case")
    values: list[tuple[str, str]] = []
    for name in covered:
        if name == "@method":
            values.append((name, method))
        elif name == "@target-uri":
            values.append((name, target_uri))
        elif name.startswith("@"):
            raise BaseRefused(f"the derived component {name!r} is not accepted; cover "
                              f"{' and '.join(sorted(DERIVED))} and header fields")
        else:
            value = field_value(lines, name)
            if value is None:
                raise BaseRefused(f"the covered field {name!r} is not in the request")
            values.append((name, value))
    return values


def signature_base(components: Sequence[tuple[str, str]], params_value: str) -> bytes:
    """RFC 9421 section 2.5: one line per component, then ``"@signature-params"``; ASCII.

    A value with a line break or another control character (a tab inside a field
    value excepted) would let one line pose as two, so it is refused.
    """
    lines = []
    for name, value in components:
        if not value.replace("\t", " ").isprintable() or (
                name.startswith("@") and value != value.strip(" ")):
            raise BaseRefused(f"the value of {name!r} holds a control character or, for a "
                              "derived component, surrounding spaces")
        lines.append(f"{sf_string(name)}: {value}")
    lines.append(f'"@signature-params": {params_value}')
    base = "\n".join(lines)
    if not base.isascii():
        raise BaseRefused("the signed components hold characters outside ASCII")
    return base.encode("ascii")
