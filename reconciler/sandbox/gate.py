"""The gate in front of ``/waves``: :class:`WavesGate`, an ASGI middleware.

Every ``/waves`` request passes, in this order, the Bearer auth (the key names
the organisation), the per-organisation concurrency limit (429 with
``Retry-After``), then the fault engine's decision: a latency, and maybe a fault
(500/502/503, a dropped connection, a truncated body, or a "ghost" create that
happens but answers a timeout). It counts requests, answers and faults in the
sandbox's statistics. Other paths go straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from starlette.responses import JSONResponse

from reconciler.sandbox.config import org_id_for_key
from reconciler.sandbox.drop import connection_of
from reconciler.sandbox.faults import CREATE_PATHS, Decision
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.wire import DECISION_KEY, ORG_KEY, error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TrackedReceive:
    """Wraps ``receive`` to know whether the request body has been read to its end."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            self.done = True
        return message

    async def drain(self) -> None:
        while not self.done:
            await self()


def _parse_bearer(scope: Scope) -> tuple[str | None, str | None]:
    """(api key, None) or (None, error message)."""
    header = None
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            header = value.decode("latin-1")
            break
    if header is None or not header.strip():
        return None, "Missing API key: send 'Authorization: Bearer <key>'"
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None, "Malformed Authorization header: expected 'Bearer <key>'"
    return token, None


def _is_speech(path: str) -> bool:
    """A text-to-speech route (one request at a time per organisation on the base plan)."""
    return path == "/waves/v1/tts" or path.endswith("/get_speech")


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_FAULT_BODIES = {
    "500": (500, {"error": "Internal server error"}),
    "502": (502, {"error": "Bad gateway"}),
    "503": (503, {"error": "Service unavailable"}),
}


class WavesGate:
    """ASGI middleware in front of /waves: auth, concurrency limit, latency, faults, stats."""

    def __init__(self, app: Callable[..., Awaitable[None]], sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/waves" or path.startswith("/waves/")):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        stats = sandbox.stats
        method = scope["method"]
        stats.requests[f"{method} {path}"] += 1
        stats.log.append(f"{method} {path}")

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.responses[str(message["status"])] += 1
            await send(message)

        key, problem = _parse_bearer(scope)
        org_id = org_id_for_key(key) if key is not None else None
        allowed = sandbox.config.allowed_orgs
        if problem is None and allowed is not None and org_id not in allowed:
            problem = "Invalid API key"
        if problem is not None or org_id is None:
            stats.unauthorized += 1
            await error_response(401, problem or "Invalid API key")(scope, receive, counted_send)
            return
        scope[ORG_KEY] = org_id

        stats.arrive(org_id)
        speech = _is_speech(path)
        try:
            limit = sandbox.config.concurrency_limit
            tts_limit = sandbox.config.tts_concurrency
            if (limit and stats.admitted[org_id] >= limit) or (
                speech and tts_limit and stats.speaking[org_id] >= tts_limit
            ):
                stats.rate_limited += 1
                headers = {}
                if sandbox.config.retry_after is not None:
                    headers["Retry-After"] = _format_seconds(sandbox.config.retry_after)
                response = JSONResponse(
                    {"error": "Too many requests"}, status_code=429, headers=headers
                )
                await response(scope, receive, counted_send)
                return
            stats.admit(org_id)
            if speech:
                stats.speaking[org_id] += 1
            released = False

            def release() -> None:
                nonlocal released
                if not released:
                    released = True
                    stats.release(org_id)
                    if speech:
                        stats.speaking[org_id] -= 1

            async def admitted_send(message: Message) -> None:
                # The place is given back as the answer's last byte goes out, not when
                # this task next runs: a client that sends its next request the moment
                # it has the answer must find the place free (else a spurious 429).
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    release()
                await counted_send(message)

            try:
                await sandbox.wait_if_held(method, path)  # admitted: it keeps its place while held
                decision = sandbox.faults.decide(sandbox.config, method, path)
                scope[DECISION_KEY] = decision
                if decision.delay_s > 0:
                    await asyncio.sleep(decision.delay_s)
                await self._answer(scope, _TrackedReceive(receive), admitted_send, decision)
            finally:
                release()
        finally:
            stats.leave(org_id)

    async def _answer(
        self, scope: Scope, receive: _TrackedReceive, send: Send, decision: Decision
    ) -> None:
        stats = self.sandbox.stats
        fault = decision.fault
        if fault is None and not decision.ghost:
            await self.app(scope, receive, send)
            return
        if fault in ("500", "502", "503", "drop") and not decision.done_before_fault:
            stats.faults[fault] += 1
            await self._fail(scope, receive, send, fault)
            return
        # Run the handler (the change is made), then spoil its answer.
        status, headers, body = await self._buffered(scope, receive)
        if fault == "truncate":
            stats.faults["truncate"] += 1
            cut = body[: len(body) // 2]
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(cut)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": cut})
        elif fault is not None:
            stats.faults[fault] += 1
            await self._fail(scope, receive, send, fault)
        elif decision.ghost and status == 200:
            stats.faults["ghost"] += 1
            await error_response(
                500, "Voice clone request timed out", error_code="voice_clone_timeout"
            )(scope, receive, send)
        else:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _buffered(self, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
        captured: dict[str, Any] = {"status": 500, "headers": []}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        return captured["status"], captured["headers"], b"".join(chunks)

    async def _fail(self, scope: Scope, receive: _TrackedReceive, send: Send, fault: str) -> None:
        if fault == "drop":
            self.sandbox.stats.responses["drop"] += 1
            await receive.drain()  # an unread body would turn our FIN into a reset
            handle = connection_of(scope)
            if handle is None:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            await handle.drop()
            return
        status, body = _FAULT_BODIES[fault]
        if fault == "500" and scope["method"] == "POST" and scope["path"] in CREATE_PATHS:
            body = {**body, "error_code": "voice_clone_error"}
        await JSONResponse(body, status_code=status)(scope, receive, send)
