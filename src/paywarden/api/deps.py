"""What every router needs from the request: the platform it serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..bootstrap import Platform


def current_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(current_platform)]
