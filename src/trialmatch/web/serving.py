"""The HTTP protocol ``trialmatch serve`` hands uvicorn: uvicorn's own, with Nagle's algorithm turned off.

With several workers uvicorn opens the listening socket itself, and asyncio only disables Nagle's algorithm
on sockets it knows to be TCP; on the others a keep-alive client's every answer after the first few waited
about 40 ms for the client's delayed acknowledgement (the headers and the body go out as separate writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
