"""What every format writes the same way: amounts as decimals of the currency, and the
seal's summary (tree size, root, leaf, digest) a reader can see without tools."""

from __future__ import annotations

import base64
from decimal import Decimal

from ...ledger.currencies import currency
from .seal import Sealed


def decimal(amount_minor: int, currency_code: str) -> Decimal:
    """``-1234`` EUR is ``Decimal("-12.34")``: exact, with the currency's minor digits."""
    exponent = currency(currency_code).exponent
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def amount(amount_minor: int, currency_code: str) -> str:
    return str(decimal(amount_minor, currency_code))


def seal_summary(sealed: Sealed) -> list[tuple[str, str]]:
    """The seal's facts as (name, value), in the order every format shows them."""
    head = sealed.proof.tree_head
    return [("statement_id", sealed.statement.statement_id),
            ("statement_sha256", sealed.statement_sha256),
            ("audit_leaf_index", str(sealed.proof.leaf_index)),
            ("audit_tree_size", str(head.tree_size)),
            ("audit_root_hash", base64.b64encode(head.root_hash).decode("ascii")),
            ("tree_head_key_id", head.key_id)]
