"""The keyring: versioned platform keys wrapped by the master key (``platform.keys``).

One module per concept: ``purposes`` (what keys exist), ``store`` (the rows),
``keyring`` (:class:`Keys`: cache, seal/open, blind indexes, signers),
``rotation`` (rotate, cryptoperiods, destroy), ``rewrap`` (sealed columns and the
rewrap), ``jwks`` (the published public keys), ``signer``.
"""

from .errors import KeyInUse, KeyNotUsable, KeyringError, RotationRefused, UnknownPurpose
from .keyring import Keys
from .rewrap import RewrapReport, SealedColumn, sealed_columns
from .signer import Signer
from .store import KeyVersion

__all__ = [
    "KeyInUse",
    "KeyNotUsable",
    "KeyVersion",
    "KeyringError",
    "Keys",
    "RewrapReport",
    "RotationRefused",
    "SealedColumn",
    "Signer",
    "UnknownPurpose",
    "sealed_columns",
]
