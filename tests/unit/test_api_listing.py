"""``WavesClient.list_voice_ids``: the ids of the same list ``list_clones`` reads.

Tiny stand-in Starlette apps serve bodies the sandbox does not (odd entries, a bare
list); the client runs unchanged over ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.api import AuthError, WavesClient

KEY = "sk_listing_test_key_0123456789"

READABLE: list[Any] = [
    {"voiceId": "voice_min"},
    {
        "voiceId": "voice_full",
        "_id": "rec1",
        "displayName": "Full",
        "tags": "a, b ,c",
        "model": {"_id": "x", "modelName": "lightning-v3.1"},
        "samples": [{"audioUrl": "u"}],
        "brandNewField": {"nested": True},
    },
    {"voice_id": "voice_snake", "model_ids": "lightning-v3.1"},
]


def client_for(body: Any, status: int = 200) -> WavesClient:
    async def listing(request: Request) -> Response:
        return JSONResponse(body, status_code=status)

    app = Starlette(routes=[Route("/waves/v1/voice-cloning", listing, methods=["GET"])])
    return WavesClient(
        base_url="http://waves.test",
        api_key=KEY,
        transport=httpx.ASGITransport(app=app),
        backoff_base=0.01,
        backoff_cap=0.02,
    )


async def _both(client: WavesClient) -> tuple[set[str], set[str]]:
    async with client:
        return await client.list_voice_ids(), {c.voice_id for c in await client.list_clones()}


@pytest.mark.parametrize(
    "body",
    [
        {"data": READABLE, "pagination": None},
        {"data": READABLE + ["not an object", {"voiceId": ""}, {"displayName": "no id"}]},
        READABLE,  # a bare list, no envelope
        {"data": []},
    ],
    ids=["readable", "odd-entries", "bare-list", "empty"],
)
def test_the_ids_are_those_of_the_clones_the_list_gives(body: Any) -> None:
    ids, clones = asyncio.run(_both(client_for(body)))
    assert ids == clones
    assert ids == ({"voice_min", "voice_full", "voice_snake"} if body != {"data": []} else set())


def test_odd_entries_are_warned_about_as_a_clone_list_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = client_for({"data": [{"voiceId": "voice_a"}, {"displayName": "no id"}]})

    async def main() -> set[str]:
        async with client:
            return await client.list_voice_ids()

    with caplog.at_level(logging.WARNING, logger="reconciler.api"):
        assert asyncio.run(main()) == {"voice_a"}
    assert sum("has no voiceId; ignored" in r.getMessage() for r in caplog.records) == 1


def test_a_refused_key_raises_as_the_list_does() -> None:
    client = client_for({"message": "Unauthorized"}, status=401)

    async def main() -> None:
        async with client:
            await client.list_voice_ids()

    with pytest.raises(AuthError):
        asyncio.run(main())


def test_a_readable_body_is_read_by_the_id_hook_and_an_odd_one_falls_back() -> None:
    """``listed_ids`` reads ids only when every entry has one; else None (the caller then
    reads the body as a clone list, with its warnings)."""
    import json

    from reconciler.api.listing import listed_ids

    readable = json.dumps({"data": READABLE}).encode()
    assert listed_ids(readable, "data") == {"voice_min", "voice_full", "voice_snake"}
    for odd in (
        {"data": [*READABLE, {"displayName": "no id"}]},
        {"data": [{"voiceId": ""}]},
        {"data": [{"voiceId": 7}]},
        {"data": ["voice_a_string_is_not_a_clone"]},
        {"voices": READABLE},
        READABLE,
    ):
        assert listed_ids(json.dumps(odd).encode(), "data") is None, odd
    assert listed_ids(b"{not json", "data") is None
