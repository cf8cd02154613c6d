"""Dropping a connection without an HTTP response.

An ASGI app cannot close its connection: whatever it does, the server answers
(uvicorn turns an exception into a 500). So the sandbox's uvicorn protocol
(:mod:`reconciler.sandbox.server`) puts a :class:`ConnectionHandle` for each
connection into the request scope's ``state``; the app closes the transport
through it and returns without starting a response, and uvicorn, seeing the
connection gone, sends nothing. The client sees the socket close before any
response (httpx raises ``RemoteProtocolError``).

In-process (``httpx.ASGITransport``) there is no socket: the app raises
``httpx.RemoteProtocolError`` itself, which the transport hands to the client,
so code under test meets the same exception class either way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import MutableMapping
from typing import Any

CONNECTION_KEY = "voicectl.sandbox.connection"


class ConnectionHandle:
    """One client connection, as the app may close it."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.lost = asyncio.Event()

    async def drop(self, timeout: float = 5.0) -> None:
        """Close the socket (FIN, nothing written) and wait until the server saw it go."""
        self.transport.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.lost.wait(), timeout)


def connection_of(scope: MutableMapping[str, Any]) -> ConnectionHandle | None:
    """The handle the sandbox's server put in ``scope``, or None (e.g. in-process)."""
    state = scope.get("state")
    if isinstance(state, dict):
        handle = state.get(CONNECTION_KEY)
        if isinstance(handle, ConnectionHandle):
            return handle
    return None
