"""Sanctions lists: reading the FollowTheMoney entity format (:mod:`.ftm`), and a small
list of made-up entities for tests and first runs (``sample.ftm.json``)."""

from .ftm import ENTITIES_MAX, FILE_BYTES_MAX, ListedEntity, SanctionsListError, read_entities

__all__ = ["ENTITIES_MAX", "FILE_BYTES_MAX", "ListedEntity", "SanctionsListError",
           "read_entities"]
