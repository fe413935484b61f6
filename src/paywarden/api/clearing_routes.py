"""The clearing network's one message endpoint (decision 0053).

    POST /v1/clearing/messages   an ISO 20022 document, headers PayWarden-Sender (BIC) and
                                 PayWarden-Signature (base64url Ed25519 over the signature
                                 base); 200 with the signed answer, or 204; PayWarden-Replay
                                 says 1 when the message was a retry answered as before
    GET  /v1/clearing/statement  a participant's own settlement account as a signed
                                 camt.053, the request signed the same way

No user authentication: the sender's signature over the exact bytes is the proof, checked
against the certificate of a known, active peer (services/clearing/transport.py). The
address rate limit of every route applies (api/defences.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..services.clearing.transport import (
    REPLAY_HEADER,
    SENDER_HEADER,
    SIGNATURE_HEADER,
    decode_signature,
    encode_signature,
)
from . import problem_codes as codes
from .deps import PlatformDep
from .problems import Problem, Refusals

refusals = Refusals(codes.ClearingHub, codes.ClearingMessages, codes.Statements)

router = APIRouter(tags=["clearing"])
XML_TYPE = "application/xml"


@router.post("/v1/clearing/messages", status_code=200, response_class=Response, responses={
    200: {"content": {XML_TYPE: {}}, "description": "The signed answer"},
    204: {"description": "Taken; no answer"}})
async def receive_message(request: Request, platform: PlatformDep) -> Response:
    """Take one signed ISO 20022 message from a peer.

    Refused (problem+json) when it is unsafe XML, from an unknown, suspended or revoked
    sender, not signed by that sender, schema-invalid, stale, or a MsgId reused with other
    bytes. The same bytes again are answered with the first answer.
    """
    node = platform.clearing
    if node is None:
        raise Problem(codes.Edge.NOT_FOUND, "this node takes no clearing messages")
    sender = request.headers.get(SENDER_HEADER, "")
    signature = decode_signature(request.headers.get(SIGNATURE_HEADER, ""))
    body = await request.body()
    got = await run_in_threadpool(node.transport.receive, body, sender, signature)
    headers = {REPLAY_HEADER: "1" if got.replay else "0"}
    if got.answer is None or got.signature is None:
        return Response(status_code=204, headers=headers)
    headers[SENDER_HEADER] = node.transport.bic
    headers[SIGNATURE_HEADER] = encode_signature(got.signature)
    return Response(got.answer, media_type=XML_TYPE, headers=headers)


@router.get("/v1/clearing/statement", response_class=Response, responses={
    200: {"content": {XML_TYPE: {}}, "description": "The signed camt.053"}})
def statement(request: Request, platform: PlatformDep,
              account: Annotated[str, Query(pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")],
              from_ns: Annotated[int, Query(ge=0)], to_ns: Annotated[int, Query(ge=0)],
              at_ns: Annotated[int, Query(ge=0)]) -> Response:
    """A participant's statement of its settlement account at this hub.

    Signed by the participant over ``statement\\0account\\0from_ns\\0to_ns\\0at_ns``
    (PayWarden-Sender, PayWarden-Signature); its own account only; answered as a signed
    camt.053 of the transfers settled in the period and the closing balance."""
    node = platform.clearing
    if node is None or node.hub is None or node.statements is None:
        raise Problem(codes.Edge.NOT_FOUND, "this node keeps no settlement accounts")
    sender = request.headers.get(SENDER_HEADER, "")
    signature = decode_signature(request.headers.get(SIGNATURE_HEADER, ""))
    with refusals():
        body, signed = node.statements.answer(sender=sender, signature=signature,
                                              account=account, from_ns=from_ns,
                                              to_ns=to_ns, at_ns=at_ns)
    return Response(body, media_type=XML_TYPE, headers={
        SENDER_HEADER: node.transport.bic, SIGNATURE_HEADER: encode_signature(signed)})
