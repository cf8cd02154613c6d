"""The client's sockets on plain asyncio (reconciler.api.network), over real sockets.

A Starlette app served by uvicorn on a thread, over TLS with the self-signed
certificate in ``tests/fixtures/tls`` (localhost and 127.0.0.1, valid to 2126;
made with ``openssl req -x509 -newkey rsa:2048 -nodes -days 36500``), and a plain
TCP server that answers nothing, for the timeouts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpcore
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio streams, 3.11+")

TLS = Path(__file__).parents[1] / "fixtures" / "tls"
LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=2)


async def hello(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"path": request.url.path, "got": len(body)})


class _Server:
    """uvicorn serving ``app`` over TLS on a free port, on a thread."""

    def __init__(self) -> None:
        import uvicorn

        app = Starlette(routes=[Route("/hello", hello, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ssl_certfile=str(TLS / "localhost.crt"),
            ssl_keyfile=str(TLS / "localhost.key"),
            log_level="error",
            lifespan="off",
        )
        self.started = threading.Event()
        server = self

        class Server(uvicorn.Server):
            async def startup(self, sockets=None):  # type: ignore[no-untyped-def]
                await super().startup(sockets)
                server.started.set()

        self.server = Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]


@pytest.fixture(scope="module")
def tls_server() -> Iterator[_Server]:
    server = _Server()
    server.thread.start()
    assert server.started.wait(30), "the TLS server did not start"
    yield server
    server.server.should_exit = True
    server.thread.join(30)


def trusting() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(TLS / "localhost.crt"))
    return context


def test_requests_go_over_tls_on_the_asyncio_backend(tls_server: _Server) -> None:
    from reconciler.api import network

    async def main() -> list[dict]:
        made = network.transport(ssl_context=trusting(), limits=LIMITS)
        async with httpx.AsyncClient(
            transport=made, base_url=f"https://localhost:{tls_server.port}"
        ) as client:
            answers = []
            for body in (b"", b"x" * 200_000):  # a body larger than one write
                response = await client.post("/hello", content=body)
                answers.append(response.json())
            response = await client.get("/hello")
            assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
            answers.append(response.json())
            assert isinstance(made._pool._network_backend, network.AsyncioBackend)
            return answers

    assert asyncio.run(main()) == [
        {"path": "/hello", "got": 0},
        {"path": "/hello", "got": 200_000},
        {"path": "/hello", "got": 0},
    ]


def test_a_certificate_nobody_trusts_is_a_connect_error(tls_server: _Server) -> None:
    from reconciler.api import network

    async def main() -> None:
        made = network.transport(ssl_context=ssl.create_default_context(), limits=LIMITS)
        async with httpx.AsyncClient(transport=made) as client:
            await client.get(f"https://localhost:{tls_server.port}/hello")

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(main())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("http", httpx.ReadTimeout),  # connected, the answer never comes
        ("https", httpx.ConnectTimeout),  # connected, the TLS handshake never comes
    ],
)
def test_a_server_that_never_answers_times_out_as_httpx_says(
    silent_port: int, scheme: str, expected: type[Exception]
) -> None:
    from reconciler.api import network

    async def main() -> None:
        made = network.transport(ssl_context=trusting(), limits=LIMITS)
        async with httpx.AsyncClient(transport=made, timeout=0.2) as client:
            await client.get(f"{scheme}://127.0.0.1:{silent_port}/")

    with pytest.raises(expected):
        asyncio.run(main())


def test_nothing_listening_is_a_connect_error() -> None:
    from reconciler.api import network

    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()  # bound once, now closed: nothing listens there

    async def main() -> None:
        backend = network.AsyncioBackend()
        await backend.connect_tcp("127.0.0.1", port, timeout=5)

    with pytest.raises(httpcore.ConnectError):
        asyncio.run(main())


def test_a_connection_the_server_closed_reads_as_readable_so_it_is_not_reused() -> None:
    """httpcore asks ``is_readable`` before reusing an idle connection: a closed one
    must say so, or the next request goes out on a dead socket."""
    from reconciler.api import network

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    async def main() -> tuple[bool, bool]:
        backend = network.AsyncioBackend()
        stream = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        accepted, _ = await asyncio.get_running_loop().sock_accept(listener)
        before = stream.get_extra_info("is_readable")
        accepted.close()
        assert await stream.read(100, timeout=5) == b""  # the end of the stream
        after = stream.get_extra_info("is_readable")
        await stream.aclose()
        return before, after

    listener.setblocking(False)
    try:
        assert asyncio.run(main()) == (False, True)
    finally:
        listener.close()


def test_a_configured_proxy_keeps_httpxs_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.api import WavesClient, network

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    assert network.proxied()
    client = WavesClient(base_url="https://api.example.test", api_key="sk-test-proxy-key")
    backend = client._http._transport._pool._network_backend  # type: ignore[attr-defined]
    assert not isinstance(backend, network.AsyncioBackend)
    assert client._http._mounts  # httpx mounted its proxy transport
    monkeypatch.delenv("HTTPS_PROXY")
    for name in ("HTTP_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert not network.proxied()
    direct = WavesClient(base_url="https://api.example.test", api_key="sk-test-proxy-key")
    backend = direct._http._transport._pool._network_backend  # type: ignore[attr-defined]
    assert isinstance(backend, network.AsyncioBackend)
