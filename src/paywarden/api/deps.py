"""What every router needs from the request: the platform it serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..bootstrap import Platform


def current_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


async def _platform(request: Request) -> Platform:
    """A coroutine, so that FastAPI calls it on the event loop: a plain function
    dependency is run in a worker thread, one thread hop per request for an attribute."""
    return current_platform(request)


PlatformDep = Annotated[Platform, Depends(_platform)]
