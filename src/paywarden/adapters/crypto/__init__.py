"""Cryptographic building blocks on ``cryptography``'s primitives: the master key,
envelope encryption of records, blind indexes. No I/O beyond the master key file."""

from .blind import blind_index, normalise, registry_index
from .envelope import Sealed, kek_version_of, open_sealed, rewrap, seal
from .errors import CryptoError, OpenError, SealedFormatError, UnwrapError
from .master import LocalMasterKey, MasterKey, local_master_key

__all__ = [
    "CryptoError",
    "LocalMasterKey",
    "MasterKey",
    "OpenError",
    "Sealed",
    "SealedFormatError",
    "UnwrapError",
    "blind_index",
    "kek_version_of",
    "local_master_key",
    "normalise",
    "open_sealed",
    "registry_index",
    "rewrap",
    "seal",
]
