"""The HTTP transport of deliveries: connects only to the public address it checked.

httpx resolves a name when it connects; checking the name's addresses before
that would leave a gap in which a DNS answer can change (rebinding) and point a
webhook at the platform's own network. This transport's network backend
resolves once, refuses the host unless every address is public
(:func:`.urls.resolve_public`), and connects to that very address; TLS still
checks the certificate against the name in the URL. With
``webhook_allow_private_addresses`` (local tests) it is plain httpx.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from .urls import resolve_public


class _PinnedBackend(httpcore.SyncBackend):
    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        address = resolve_public(host, port)
        return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                   socket_options=socket_options)


class PinnedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(verify=True, trust_env=False, retries=0)
        if not allow_private:  # the same pool httpx builds, with the checking backend
            self._pool = httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
                network_backend=_PinnedBackend(), retries=0)
