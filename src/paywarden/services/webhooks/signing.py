"""Signing one webhook delivery: RFC 9421 with Ed25519, Content-Digest of RFC 9530.

The signature covers the method, the target URI, the body's digest, its content
type, the event id (``Webhook-Id``) and the time of this attempt
(``Webhook-Timestamp``, seconds, equal to the signature's ``created``). It
carries ``keyid`` (a key of the "webhooks" purpose, published in
``/.well-known/jwks.json``), ``alg="ed25519"`` and ``tag="paywarden-webhook"``,
which keeps a webhook signature from being taken for any other PayWarden
signature. The signature base is built by the ``http-message-signatures``
library; the keyring's :class:`~paywarden.services.keys.Signer` signs it, so the
private key never leaves the keyring.
"""

from __future__ import annotations

from datetime import UTC, datetime

from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from ..keys import Signer

COVERED = ("@method", "@target-uri", "content-digest", "content-type", "webhook-id",
           "webhook-timestamp")
TAG = "paywarden-webhook"
LABEL = "pw"
CONTENT_TYPE = "application/json"


class _Message:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


def signed_headers(signer: Signer, *, url: str, event_id: str, body: bytes,
                   now_s: int) -> dict[str, str]:
    """The header fields of one delivery attempt, signed."""
    headers = {"Content-Type": CONTENT_TYPE, "Webhook-Id": event_id,
               "Webhook-Timestamp": str(now_s)}
    message = _Message("POST", url, headers)
    library = HTTPMessageSigner(signature_algorithm=algorithms.ED25519,
                                key_resolver=MappingKeyResolver(public_keys={}, private_keys={}))
    prepared = library.prepare(message, key_id=signer.key_id, label=LABEL, tag=TAG,
                               created=datetime.fromtimestamp(now_s, UTC), nonce=None,
                               include_alg=True, covered_component_ids=COVERED, body=body)
    library.apply(message, prepared, signer.sign(prepared.signature_base))
    return dict(message.headers)
