"""Request and response bodies of the API, one module per feature.

Every request body derives from :class:`Strict`: unknown fields are refused and
nothing is coerced (a float, a string of digits or a boolean is never an amount),
so anything the schema refuses fails the whole request with 422 and applies
nothing. Text people see uses the types of :mod:`paywarden.api.text`. Routes keep
only their path and query parameters; the bodies live here, so the next feature
adds a module beside these rather than a private copy of the base class.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


__all__ = ["Strict"]
