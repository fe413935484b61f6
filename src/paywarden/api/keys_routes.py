"""``GET /.well-known/jwks.json``: the platform's public signing keys, for anyone.

Receipts, webhooks, tree heads and backups are signed with these keys; the set
holds the active keys and those retired within ``key_publish_retired_days``.
No token needed, nothing secret in it: a verifier fetches it, caches it, and
refetches when it meets an unknown ``kid``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()
JWKS_MAX_AGE_S = 300  # a rotation reaches verifiers within this (they refetch on unknown kid)
JWK_SET_JSON = "application/jwk-set+json"


class JwkSetResponse(JSONResponse):
    """JSON under its RFC 7517 media type, so that the document names the type sent."""

    media_type = JWK_SET_JSON


@router.get("/.well-known/jwks.json", include_in_schema=True, tags=["keys"],
            response_class=JwkSetResponse)
def jwks(request: Request) -> JSONResponse:
    """Published signing keys (JWKS).

    The platform's public keys, to check signed receipts and signed tree heads.
    """
    document = request.app.state.platform.keys.jwks()
    return JwkSetResponse(document, headers={
        "Cache-Control": f"public, max-age={JWKS_MAX_AGE_S}",
        "Access-Control-Allow-Origin": "*",
    })
