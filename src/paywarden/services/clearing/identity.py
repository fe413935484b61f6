"""A clearing node's identity: its key, the certificates it trusts, the CA it runs.

``NodeSigner`` is the transport's :class:`~.ports.Signer`: it signs with this node's
``clearing`` key (keyring), and it verifies a peer's signature only with a key whose
certificate chains to a CA this node trusts and names that peer's BIC
(``participant_key``): its own CA (a hub: the participants' certificates it issued), and
the CAs in ``clearing_certificates`` (a bank: its hub's). A checked certificate's key is
remembered for ``CACHE_S``; a suspended or revoked peer is refused before any of this,
by its row in ``clearing_peers``.

``HubCA`` is the :class:`~.ports.ParticipantCA` of a hub: the platform CA of the
certification issue, issuing participant certificates.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.iso20022 import signatures
from ...adapters.store import Database
from ...adapters.store.schema import ca_certificates, clearing_certificates
from ...domain.errors import DomainError
from .. import audit
from ..certification.authority import KeySource, current_ca, fingerprint
from ..certification.participants import issue_participant, participant_key
from ..keys.purposes import CLEARING

NS = 1_000_000_000
CACHE_S = 60
CA_KIND = "ca"
OWN_KIND = "own"


class NodeKeys(KeySource, Protocol):
    """What a clearing node needs of the keyring (services.keys.Keys): its CA key (a hub)
    and the signer of its ``clearing`` key, which never leaves the keyring."""

    def signer(self, purpose: str) -> Any: ...


def public_key_pem(keys: NodeKeys) -> str:
    """This node's clearing public key, as a participant hands it to its hub."""
    key: Ed25519PublicKey = keys.signer(CLEARING).public_key
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        raise DomainError("peer_invalid", "the public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise DomainError("peer_invalid", "a clearing key is Ed25519")
    return key


def certificate_fingerprint(pem: str) -> str:
    try:
        return fingerprint(x509.load_pem_x509_certificate(pem.encode()))
    except ValueError:
        raise DomainError("participant_certificate_invalid",
                          "that is not a PEM certificate") from None


class Trust:
    """The CA certificates this node trusts, and the certificate its hub issued it."""

    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def anchors(self) -> list[str]:
        with self._database.engine.connect() as conn:
            own_cas = conn.execute(select(ca_certificates.c.pem)).scalars().all()
            trusted = conn.execute(select(clearing_certificates.c.pem).where(
                clearing_certificates.c.kind == CA_KIND)).scalars().all()
        return [*own_cas, *trusted]

    def add(self, *, kind: str, bic: str, pem: str, actor: str) -> str:
        """Keep a trusted CA (``ca``) or this node's own certificate (``own``); the same
        certificate again is kept once."""
        print_ = certificate_fingerprint(pem)
        now = self._clock.now_ns()
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(clearing_certificates).values(
                    fingerprint=print_, kind=kind, bic=bic, pem=pem, created_at=now))
                audit.record(conn, at_ns=now, actor=actor, action=f"clearing.trust_{kind}",
                             object_id=bic, detail={"fingerprint": print_})
        except IntegrityError:
            pass  # kept already
        return print_

    def own(self) -> str | None:
        with self._database.engine.connect() as conn:
            found: str | None = conn.execute(select(clearing_certificates.c.pem).where(
                clearing_certificates.c.kind == OWN_KIND).order_by(
                clearing_certificates.c.created_at.desc()).limit(1)).scalar_one_or_none()
        return found


@dataclass
class _Checked:
    key: Ed25519PublicKey
    until_ns: int


class NodeSigner:
    def __init__(self, keys: NodeKeys, trust: Trust, *, clock: Clock) -> None:
        self._keys = keys
        self._trust = trust
        self._clock = clock
        self._checked: dict[tuple[str, str], _Checked] = {}
        self._lock = threading.Lock()

    def sign(self, sender: str, body: bytes) -> bytes:
        signature: bytes = self._keys.signer(CLEARING).sign(
            signatures.signed_bytes(sender, body))
        return signature

    def verify(self, certificate_pem: str, sender: str, body: bytes, signature: bytes) -> bool:
        key = self._key(certificate_pem, sender)
        return key is not None and signatures.verify(key, sender, body, signature)

    def _key(self, certificate_pem: str, sender: str) -> Ed25519PublicKey | None:
        now = self._clock.now_ns()
        with self._lock:
            checked = self._checked.get((certificate_pem, sender))
        if checked is not None and now < checked.until_ns:
            return checked.key
        try:
            key = participant_key(certificate_pem, self._trust.anchors(), sender, now_ns=now)
        except DomainError:
            return None
        with self._lock:
            self._checked[(certificate_pem, sender)] = _Checked(key, now + CACHE_S * NS)
        return key


class HubCA:
    """The hub's CA issuing participant certificates (``ParticipantCA``)."""

    def __init__(self, database: Database, keys: KeySource, *, clock: Clock) -> None:
        self._database = database
        self._keys = keys
        self._clock = clock

    def issue(self, *, bic: str, name: str, public_key_pem: str) -> str:
        now = self._clock.now_ns()
        ca = current_ca(self._database, self._keys, now_ns=now, actor=audit.SYSTEM)
        return issue_participant(ca, bic=bic, name=name,
                                 public_key=load_public_key(public_key_pem), now_ns=now).pem

    def ca_pem(self) -> str:
        ca = current_ca(self._database, self._keys, now_ns=self._clock.now_ns(),
                        actor=audit.SYSTEM)
        return ca.certificate.public_bytes(serialization.Encoding.PEM).decode()


def describe(pem: str) -> dict[str, Any]:
    """A certificate's subject and validity, for people."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    return {"subject": cert.subject.rfc4514_string(), "fingerprint": fingerprint(cert),
            "not_after": cert.not_valid_after_utc.isoformat()}
