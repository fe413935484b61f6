"""The payments this process wrote last, as it wrote them: where a transition is prepared
from, instead of reading the row back and opening its seal.

Only a hint. A unit prepared from a copy that another process has since changed fails
its version check inside the batch (:class:`.units.Stale`) and is prepared again from
the database; a refusal decided on a copy is asked again of the database too. Bounded:
the least recently used copy goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import PaymentView

RECENT_MAX = 10_000


class RecentPayments:
    def __init__(self, size_max: int = RECENT_MAX) -> None:
        self._size_max = size_max
        self._views: OrderedDict[str, PaymentView] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, payment_id: str) -> PaymentView | None:
        with self._lock:
            view = self._views.get(payment_id)
            if view is not None:
                self._views.move_to_end(payment_id)
            return view

    def put(self, view: PaymentView) -> None:
        with self._lock:
            known = self._views.get(view.id)
            if known is not None and known.escrow.version > view.escrow.version:
                return  # a later transition of this payment got here first
            self._views[view.id] = view
            self._views.move_to_end(view.id)
            if len(self._views) > self._size_max:
                self._views.popitem(last=False)

    def forget(self, payment_id: str) -> None:
        with self._lock:
            self._views.pop(payment_id, None)
