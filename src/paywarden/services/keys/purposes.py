"""What each key is for, and what that decides about it."""

from __future__ import annotations

DATA = "data"  # wraps the per-record data keys of envelope encryption
BLIND_INDEX = "blind_index"  # keys the HMAC of blind indexes; one version for ever
TREE_HEADS = "tree_heads"
RECEIPTS = "receipts"
WEBHOOKS = "webhooks"
BACKUPS = "backups"
DOCUMENTS = "documents"  # documents the platform issues to customers: bank statements
CHEQUES = "cheques"  # electronic cheques (decision 0026)
# Keys the registry's identifier hashes; shared by the institutions of a feed (0031).
REGISTRY_INDEX = "registry_index"
REGISTRY = "registry"  # signs the registry's feed (decision 0031)
CA = "ca"
# A node's clearing key (decision 0053): signs every ISO 20022 message it sends. Trusted
# through its participant certificate (services/certification/participants.py), which
# binds it to a BIC, never through the JWKS: a JWKS key names no BIC, so publishing it
# would offer a second, weaker way to trust it. A rotation needs a new certificate.
CLEARING = "clearing"

SYMMETRIC = frozenset({DATA, BLIND_INDEX, REGISTRY_INDEX})
SIGNING = frozenset({TREE_HEADS, RECEIPTS, WEBHOOKS, BACKUPS, DOCUMENTS, CHEQUES, REGISTRY,
                     CA, CLEARING})
PURPOSES = SYMMETRIC | SIGNING
# In the JWKS; never CA, never CLEARING.
PUBLISHED = frozenset({TREE_HEADS, RECEIPTS, WEBHOOKS, BACKUPS, DOCUMENTS, CHEQUES,
                       REGISTRY})
ROTATABLE = PURPOSES - {BLIND_INDEX, REGISTRY_INDEX}
# Rotated by the keys chore when their cryptoperiod ends. Not CLEARING: a new clearing
# key signs nothing its hub will take until the hub certifies it, so an unattended
# rotation would cut the node off the network; staff are alerted instead (due.py)
# (docs/clearing.md, "The clearing key").
AGE_ROTATED = ROTATABLE - {CLEARING}

ACTIVE = "active"  # encrypts / signs, and decrypts / verifies
RETIRED = "retired"  # decrypts / verifies only
DESTROYED = "destroyed"  # secret deleted; a signing key's public part stays

SECRET_BYTES = 32  # AES-256 keys, HMAC keys, Ed25519 seeds alike


def context(purpose: str, version: int) -> bytes:
    """What the master key binds a wrapped secret to: it unwraps only as this version."""
    return f"key_versions/{purpose}/{version}".encode()
