"""Merchant requests signed with RFC 9421: the verifier :mod:`.auth` calls.

The target URI a signature covers is rebuilt from ``settings.public_url`` (the
origin clients are told to use) and the path and query exactly as received,
never from the ``Host`` header, which the sender controls. The body is read
once; Starlette keeps it on the request, so the route reads it again.

The outcome is kept on the request's state: when the idempotency layer has
already verified a request, the route's own authentication reuses the result
instead of verifying again (and meeting its own nonce as a replay).
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request

from ..bootstrap import Platform
from ..domain.identity import Kind, Principal
from ..services.merchants import ClaimUnavailable, SignatureRefused, SignedRequest
from . import problem_codes as codes
from .problems import Problem

log = structlog.get_logger(__name__)

# RFC 9421 section 5.1: what a signature must look like to be accepted here.
ACCEPT_SIGNATURE = 'sig=("@method" "@target-uri" "content-digest");created;keyid;nonce;alg="ed25519"'
CLAIM_RETRY_AFTER_S = 1
_OUTCOME = "signature_outcome"


def install(app: FastAPI) -> None:
    app.state.verify_signature = verify_signature


def target_uri(request: Request, public_url: str) -> str:
    scope = request.scope
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    query = scope.get("query_string", b"").decode("latin-1")
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


async def verify_signature(request: Request) -> Principal:
    """The merchant principal of a signed request, or a 401 problem saying what is wrong."""
    outcome: Principal | Problem | None = getattr(request.state, _OUTCOME, None)
    if outcome is None:
        outcome = await _verify(request)
        setattr(request.state, _OUTCOME, outcome)
    if isinstance(outcome, Problem):
        raise outcome
    return outcome


async def _verify(request: Request) -> Principal | Problem:
    platform: Platform = request.app.state.platform
    signed = SignedRequest(method=request.method,
                           target_uri=target_uri(request, platform.settings.public_url),
                           headers=request.headers.items(), body=await request.body())
    try:
        verified = await platform.signatures.verify(signed)
    except SignatureRefused as exc:
        log.warning("signature_refused", code=exc.code, path=request.url.path)
        detail = exc.detail
        if exc.code == "signature_invalid":  # most often: signed for another origin
            detail += (f"; this server checks signatures over {platform.settings.public_url}"
                       " (its PAYWARDEN_PUBLIC_URL): use that as the client's base URL")
        problem = Problem(exc.code, detail)
        if problem.status == HTTPStatus.UNAUTHORIZED:  # not merchant_suspended: 403
            problem.headers = {"WWW-Authenticate": "Signature",
                               "Accept-Signature": ACCEPT_SIGNATURE}
        return problem
    except ClaimUnavailable as exc:  # never accepted on a nonce that is not recorded
        log.error("signature_nonce_unrecorded", path=request.url.path, detail=str(exc))
        return Problem(codes.Signatures.REPLAY_CHECK_UNAVAILABLE, "the request's nonce could "
                       "not be recorded, so it was not accepted; sign it afresh and retry",
                       headers={"Retry-After": str(CLAIM_RETRY_AFTER_S)})
    return Principal(kind=Kind.MERCHANT, id=verified.merchant_id, roles=frozenset({"merchant"}),
                     owner=verified.merchant_id, key_id=verified.key_id,
                     auth_methods=frozenset({"signature"}))
