"""What the participant bank needs from the rest of the clearing network (decision 0056).

The transport (services/clearing/transport.py) signs, sends, verifies and archives; the
bank side only speaks message *values*. Outbound it needs a :class:`HubLink` to its own
hub; inbound the transport dispatches to plain :data:`Handler` functions, one per
message type, that answer a message (a pacs.002) or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ...domain.clearing.messages import Message


class HubUnreachable(Exception):
    """The hub did not answer (refused connection, timeout, an unverifiable answer): the
    caller leaves everything as it is and tries again later."""


class HubLink(Protocol):
    def send(self, message: Message) -> Message | None:
        """Send ``message`` to this bank's hub; its decoded, verified answer (a pacs.002
        for a pacs.008) or None. Raises :class:`HubUnreachable`."""
        ...


Handler = Callable[[Message, str], Message | None]  # (message, sender BIC) -> answer
