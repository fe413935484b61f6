"""The features a screening saw: named values, frozen, with one canonical form.

The canonical form (sorted keys, no spaces, floats rounded to 6 places) is what a
decision records and its audit leaf digests, so a re-run reads back exactly what the
engine saw. Values are booleans, integers, floats, short strings or None; a name is a
lower-case identifier (it is a symbol in the rule language).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import DomainError

Value = bool | int | float | str | None
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
STRING_CHARS_MAX = 64
FEATURES_MAX = 256


# Names already matched against NAME: every screening repeats the same few dozen, and the
# regular expression was a tenth of a screening's CPU. Bounded, in case names ever vary.
_NAMES_CHECKED: set[str] = set()
_NAMES_CHECKED_MAX = 4_096


def _checked(name: str, value: Any) -> Value:
    if name not in _NAMES_CHECKED:
        if not isinstance(name, str) or not NAME.match(name):
            raise DomainError("risk_feature_invalid",
                              f"feature name {name!r} is not an identifier")
        if len(_NAMES_CHECKED) < _NAMES_CHECKED_MAX:
            _NAMES_CHECKED.add(name)
    kind = type(value)
    if value is None or kind is bool or kind is int:
        return value  # type: ignore[no-any-return]  # its type was just checked
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DomainError("risk_feature_invalid", f"feature {name} is {value!r}")
        return round(value, 6)
    if isinstance(value, str) and len(value) > STRING_CHARS_MAX:
        raise DomainError("risk_feature_invalid", f"feature {name} is over "
                          f"{STRING_CHARS_MAX} characters")
    if value is None or isinstance(value, bool | int | str):
        return value
    raise DomainError("risk_feature_invalid", f"feature {name} is a {type(value).__name__}")


class Features(Mapping[str, Value]):
    """An immutable mapping of feature names to values."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        items = dict(values or {})
        if len(items) > FEATURES_MAX:
            raise DomainError("risk_feature_invalid", f"more than {FEATURES_MAX} features")
        self._values: dict[str, Value] = {k: _checked(k, v) for k, v in sorted(items.items())}

    def __getitem__(self, name: str) -> Value:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Features({self._values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Features) and self._values == other._values

    def __hash__(self) -> int:
        return hash(self.canonical())

    def canonical(self) -> str:
        return json.dumps(self._values, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True, allow_nan=False)

    @classmethod
    def parse(cls, text: str) -> Features:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise DomainError("risk_feature_invalid", "recorded features are not an object")
        return cls(values)
