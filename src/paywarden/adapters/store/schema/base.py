"""The one MetaData every table belongs to, and the mark of a sealed column.

A column whose values are sealed (AES-256-GCM envelopes bound to table, column and
row; decision 0010) is declared with ``info=SEALED`` next to its table; the row id
bound into each value is made of the table's primary key. The keyring's rewrap
walks every column so marked (``services.keys.rewrap.sealed_columns``), so a new
sealed column cannot be forgotten by it.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
SEALED = {"sealed": True}  # Column.info of a sealed column
