"""How the SQLite writer splits a batch into multi-row statements (decision 0003)."""

from __future__ import annotations

import pytest

from paywarden.adapters.store.ledger_writer import _row_counts


@pytest.mark.parametrize("rows_total", [0, 1, 2, 3, 1_023, 1_024, 1_025, 1_560, 8_190, 10_000])
def test_row_counts_cover_every_row_once_within_the_bound(rows_total: int) -> None:
    counts = list(_row_counts(rows_total, 1_560))
    assert sum(counts) == rows_total
    assert all(0 < c <= 1_560 for c in counts)


def test_row_counts_use_only_a_dozen_statement_shapes_whatever_the_batch() -> None:
    shapes = {c for n in range(1, 8_191) for c in _row_counts(n, 1_560)}
    assert shapes == {1_560} | {2 ** k for k in range(11)}
