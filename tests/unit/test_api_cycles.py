"""A finished request leaves no reference cycle: its answer, request, upload file and
body are freed by reference counting as soon as the caller lets go.

httpx's response and its stream refer to each other; the client cuts that link once
the body is read. Otherwise every create of a 10,000-voice apply left ~54 objects
(the open upload file among them) for the cyclic collector to find.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.api import CloneRequest, WavesClient

WAV = Path(__file__).parents[1] / "fixtures" / "audio" / "tone-6s.wav"


async def listing(request: Request) -> Response:
    return JSONResponse({"data": [{"voiceId": f"voice_{i}"} for i in range(50)]})


async def create(request: Request) -> Response:
    await request.form()
    return JSONResponse({"data": {"voiceId": "voice_new", "status": "completed"}})


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


def test_answers_are_not_kept_alive_by_cycles(saved_garbage: list[object]) -> None:
    app = Starlette(
        routes=[
            Route("/waves/v1/voice-cloning", listing, methods=["GET"]),
            Route("/waves/v1/voice-cloning", create, methods=["POST"]),
        ]
    )
    client = WavesClient(
        base_url="http://waves.test",
        api_key="sk_cycles_test_key_0123456789",
        transport=httpx.ASGITransport(app=app),
    )
    request = CloneRequest(display_name="a", file=WAV, language="en", model="lightning-v3.1")

    async def main() -> None:
        async with client:
            for _ in range(3):
                await client.create_clone(request)
                assert len(await client.list_clones()) == 50
                assert len(await client.list_voice_ids()) == 50

    asyncio.run(main())
    gc.collect()
    kept = [o for o in saved_garbage if isinstance(o, httpx.Response | httpx.Request)]
    assert kept == []
