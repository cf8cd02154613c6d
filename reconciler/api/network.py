"""The client's sockets on plain asyncio streams (Python 3.11+), not through anyio.

httpx's default transport reaches its sockets through httpcore's anyio backend:
a run's first connection imports anyio's asyncio backend (~35 ms, on every
command that talks to the service), and each request pays anyio's layers (a
cancel scope per read and write, a dict of socket attributes built at each
look-up, one ``getpeername`` each time), about a twentieth of an apply's CPU.
This backend gives httpcore the same streams from ``asyncio.open_connection``:

* every failure is the httpcore error the anyio backend raises for it
  (``ConnectError``, ``ConnectTimeout``, ``ReadError``, ``ReadTimeout``,
  ``WriteError``, ``WriteTimeout``), so httpx maps them as it always does;
* a timeout is ``asyncio.timeout`` (None: none), TLS is ``StreamWriter.start_tls``
  (both 3.11+: on 3.10 the client keeps httpx's own transport);
* closing aborts the connection after the close is queued, as anyio does: a
  server that never answers a TLS close cannot hold a run.

:func:`transport` is the httpx transport built on it: httpx's own, whose
connection pool is made with this backend (the same pool arguments httpx uses).
The client uses it unless a proxy is configured (:func:`proxied`): httpx's proxy
transports stay as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

# asyncio.timeout and StreamWriter.start_tls: the client imports this module on 3.11+
# only (and mypy, checking for 3.10, skips the rest of it).
assert sys.version_info >= (3, 11)


@contextlib.contextmanager
def _mapped(timeout_error: type[Exception], other_error: type[Exception]) -> Iterator[None]:
    """A timeout as ``timeout_error``, a socket or TLS failure as ``other_error``."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout_error(str(exc) or "timed out") from exc
    except OSError as exc:  # ssl.SSLError and ConnectionError are OSErrors
        raise other_error(str(exc) or type(exc).__name__) from exc


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio stream reader and writer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)  # b"" once the peer closed

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()

    async def aclose(self) -> None:
        transport = self._writer.transport
        if transport.is_closing():
            return
        with contextlib.suppress(OSError):
            if transport.can_write_eof():
                transport.write_eof()
        transport.close()
        await asyncio.sleep(0)  # let the close go out
        transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            await self.aclose()
            raise
        return self  # the writer (and the reader behind it) now speak TLS

    def get_extra_info(self, info: str) -> Any:
        writer = self._writer
        if info == "ssl_object":
            return writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return writer.get_extra_info("sockname")
        if info == "server_addr":
            return writer.get_extra_info("peername")
        if info == "socket":
            return writer.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks before reusing an idle connection: readable means the
            # server closed it. The event loop reads the socket as data comes, so an
            # end of stream is in the reader already, not in the socket.
            return self._reader.at_eof() or writer.transport.is_closing()
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio streams."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):  # TCP_NODELAY is asyncio's default
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        return _with_options(AsyncioStream(reader, writer), socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return _with_options(AsyncioStream(reader, writer), socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _with_options(stream: AsyncioStream, options: Iterable[Any] | None) -> AsyncioStream:
    sock: socket.socket | None = stream.get_extra_info("socket")
    for option in options or ():
        if sock is not None:
            sock.setsockopt(*option)
    return stream


def proxied() -> bool:
    """Whether the environment (or the system's settings) names an HTTP proxy: httpx
    then mounts its own transports for it, which a transport given to it would turn off."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def transport(*, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport, its connection pool on :class:`AsyncioBackend` (3.11+)."""
    made = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits, trust_env=False)
    # httpx takes no network backend, so its pool is made again here, with the
    # arguments httpx gives it (http/1.1 only, no proxy: the client mounts httpx's
    # own transports for proxies from the environment).
    made._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return made
