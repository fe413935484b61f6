"""The socket ``paywarden serve`` claims before it writes: connections on it send at once."""

from __future__ import annotations

import asyncio
import socket

from paywarden.cli.serving import _listen


def test_a_connection_accepted_on_the_claimed_socket_has_nagle_off() -> None:
    """asyncio turns Nagle's algorithm off only for sockets that name IPPROTO_TCP; without
    it every small answer waited for the client's delayed ACK (about 40 ms a request)."""
    listening = _listen("127.0.0.1", 0)
    port = listening.getsockname()[1]
    accepted: list[int] = []

    async def main() -> None:
        def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listening)
        async with server:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if accepted:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert accepted and accepted[0] != 0
