"""Serving the sandbox over real HTTP with uvicorn (``voicectl sandbox serve``).

Three things differ from a stock ``uvicorn.run``:

* the HTTP protocol is :class:`SandboxH11Protocol`, an h11 protocol that lets the
  app close a connection without any response (the ``drop`` fault);
* the socket is bound before the server starts, so ``port=0`` yields the real
  port, and ``on_ready`` runs once uvicorn is accepting connections;
* SIGINT and SIGTERM stop the server gracefully and :func:`serve` simply returns
  (stock uvicorn re-raises the signal after shutdown, which would kill the process
  with a non-zero status or a KeyboardInterrupt traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconciler.sandbox.app import create_app
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import CONNECTION_KEY, ConnectionHandle
from reconciler.sandbox.state import StateFileError, check_place, check_writable

SHUTDOWN_GRACE_SECONDS = 3


class SandboxStartError(Exception):
    """The server could not start (e.g. the port is taken); the message is one line."""


class SandboxH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a per-connection handle in each request's scope state."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._sandbox_handle = ConnectionHandle(transport)
        # A per-connection copy: uvicorn copies app_state into every request's scope.
        self.app_state = {**self.app_state, CONNECTION_KEY: self._sandbox_handle}

    def connection_lost(self, exc: Exception | None) -> None:
        handle = getattr(self, "_sandbox_handle", None)
        if handle is not None:
            handle.lost.set()
        super().connection_lost(exc)


class _Server(uvicorn.Server):
    """A uvicorn server whose signal handling ends with a normal return."""

    def request_exit(self, _sig: int | None = None, _frame: FrameType | None = None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Handlers are installed by serve() before the server starts; nothing is re-raised.
        yield


def format_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one). Raises SandboxStartError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SandboxStartError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    family, socktype, proto, _canon, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise SandboxStartError(
            f"cannot listen on {format_url(host, port)}: {exc.strerror or exc}"
        ) from exc
    sock.set_inheritable(True)
    return sock


def _configure_logging(access_log: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
    handler.setLevel(logging.WARNING)
    error_logger = logging.getLogger("uvicorn.error")
    error_logger.handlers = [handler]
    error_logger.propagate = False
    access_logger = logging.getLogger("uvicorn.access")
    access_logger.propagate = False
    if access_log:
        access_handler = logging.StreamHandler(sys.stderr)
        access_handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.handlers = [access_handler]
    else:
        access_logger.handlers = []


async def _state_not_saved(request: Request, exc: Exception) -> Response:
    """The state file could not be rewritten mid-run (a disk filling up): one log line
    and a 500 that says so. The change is kept in memory; the next save writes it."""
    message = f"{exc}; the change is kept in memory only until a later save succeeds"
    logging.getLogger("uvicorn.error").error("%s", message)
    return JSONResponse({"error": message}, status_code=500)


def serve(
    config: SandboxConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    state_file: Path | None = None,
    access_log: bool = False,
    on_ready: Callable[[str], Any] | None = None,
) -> None:
    """Serve the sandbox until SIGINT/SIGTERM, then return normally.

    ``on_ready(url)`` is called once the server accepts connections (``url`` has
    the real port). Raises :class:`SandboxStartError` when the socket cannot be
    bound and ``reconciler.sandbox.state.StateFileError`` for a state file that cannot
    be read or could never be written (its folder missing, a file in the way, no
    permission to write there): refused before serving, not a 500 on the first create.
    """
    if state_file is not None:
        check_place(state_file, make_folder=False)
        check_writable(state_file)
    app = create_app(config, state_file=state_file)
    app.add_exception_handler(StateFileError, _state_not_saved)
    sock = bind_socket(host, port)
    url = format_url(host, sock.getsockname()[1])
    _configure_logging(access_log)
    uv_config = uvicorn.Config(
        app,
        http=SandboxH11Protocol,
        ws="none",
        lifespan="off",
        log_config=None,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = _Server(uv_config)
    originals: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            originals[sig] = signal.signal(sig, server.request_exit)
    try:
        asyncio.run(_run(server, sock, url, on_ready))
    finally:
        for sig, handler in originals.items():
            signal.signal(sig, handler)
        sock.close()


async def _run(
    server: _Server, sock: socket.socket, url: str, on_ready: Callable[[str], Any] | None
) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started and on_ready is not None and not server.should_exit:
        on_ready(url)
    await task
