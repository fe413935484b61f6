"""The operator token guard (replaced by real principals in issue 3)."""

from __future__ import annotations

from fastapi import Request

from .problems import Problem


def require_operator(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "unauthenticated", "an operator bearer token is required",
                      headers={"WWW-Authenticate": "Bearer"})
    if not request.app.state.platform.tokens.check(token.strip()):
        raise Problem(401, "unauthenticated", "the bearer token is not valid",
                      headers={"WWW-Authenticate": "Bearer"})
