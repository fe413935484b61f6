"""The audit log's canonical JSON: the fast path writes exactly what RFC 8785 says."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from paywarden.domain.audit.leaves import (
    JSON_INT_MAX,
    LeafError,
    canonical,
    canonical_jsonable,
    jsonable,
)

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # control chars, BMP, astral
keys = st.one_of(texts, st.sampled_from(["a", "b", "é", "\ue000", "\U0001f600", "", "A", "_"]))
scalars = st.one_of(st.none(), st.booleans(), texts,
                    st.integers(min_value=-JSON_INT_MAX, max_value=JSON_INT_MAX))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=600)
@given(values)
def test_canonical_bytes_are_those_of_rfc8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_keys_outside_the_basic_plane_sort_by_utf16_code_units_as_rfc8785_says() -> None:
    value = {"\U0001f600": 1, "\ue000": 2}  # code points and UTF-16 units disagree here
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value).index("\U0001f600".encode()) < canonical(value).index(
        "\ue000".encode())


def test_control_characters_are_escaped_as_rfc8785_escapes_them() -> None:
    value = {"s": "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028'}
    assert canonical(value) == rfc8785.dumps(value)


wide = st.recursive(
    st.one_of(scalars, st.integers(), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(st.one_of(keys, st.integers()), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=600)
@given(wide)
def test_canonical_jsonable_is_canonical_of_jsonable(value: Any) -> None:
    """The one-walk path (audit details, state digests) writes the bytes of the two-walk one:
    integers beyond JSON's, tuples, integer keys and floats included."""
    assert _outcome(canonical_jsonable, value) == _outcome(lambda v: canonical(jsonable(v)),
                                                           value)


def _outcome(encode: Any, value: Any) -> bytes | str:
    try:
        return bytes(encode(value))
    except LeafError as exc:
        return f"refused: {exc}"
