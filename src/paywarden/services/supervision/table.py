"""What each report module returns, and the period helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Period:
    """UTC days ``first``…``last`` inclusive, as nanosecond bounds (both inclusive)."""

    first: date
    last: date

    @property
    def from_ns(self) -> int:
        return _day_ns(self.first)

    @property
    def to_ns(self) -> int:
        return _day_ns(self.last + timedelta(days=1)) - 1

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass
class Table:
    """A report's rows before citation: the last cell of each row is its object id."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)


def _day_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS_PER_S


def instant(at_ns: int) -> str:
    """RFC 3339 UTC with nanoseconds: the same text in every format."""
    moment = datetime.fromtimestamp(at_ns // NS_PER_S, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{at_ns % NS_PER_S:09d}Z"


def optional_instant(at_ns: int | None) -> str:
    return "" if at_ns is None else instant(int(at_ns))
