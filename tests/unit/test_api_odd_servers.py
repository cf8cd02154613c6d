"""Server behaviours the sandbox does not produce, from tiny stand-in Starlette apps.

The client runs unchanged over ``httpx.ASGITransport``; only the server is
different: an id the delete calls invalid while the list still shows it, a
``Retry-After`` given as an HTTP date, odd list entries, unreadable 200s, a
server that echoes the Authorization header back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.api import (
    AmbiguousCreateError,
    AuthError,
    BadRequestError,
    Clone,
    CloneRequest,
    NotFoundError,
    ServerError,
    TransportError,
    WavesClient,
)

WAV = Path(__file__).parents[1] / "fixtures" / "audio" / "tone-6s.wav"
KEY = "sk_odd_Hq3Vn8SecretKeyForEchoTests"


def make_client(routes: list[Route], **kwargs: Any) -> tuple[WavesClient, dict[str, int]]:
    counts: dict[str, int] = {}

    async def count(scope, receive, send):  # ASGI middleware: count requests per path
        if scope["type"] == "http":
            key = f"{scope['method']} {scope['path']}"
            counts[key] = counts.get(key, 0) + 1
        await app(scope, receive, send)

    app = Starlette(routes=routes)
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.02)
    client = WavesClient(
        base_url="http://waves.test",
        api_key=KEY,
        transport=httpx.ASGITransport(app=count),
        **kwargs,
    )
    return client, counts


def run(coro):
    return asyncio.run(coro)


def test_delete_refused_while_the_list_still_shows_it_is_an_error() -> None:
    async def delete(request: Request) -> Response:
        return JSONResponse({"error": "Invalid voice id"}, status_code=400)

    async def listing(request: Request) -> Response:
        return JSONResponse({"data": [{"voiceId": "voice_stuck", "displayName": "Stuck"}]})

    client, counts = make_client(
        [
            Route("/waves/v1/lightning-large", delete, methods=["DELETE"]),
            Route("/waves/v1/voice-cloning", listing, methods=["GET"]),
        ]
    )

    async def main() -> None:
        async with client:
            with pytest.raises(NotFoundError) as info:
                await client.delete_clone("voice_stuck")
            assert str(info.value) == 'delete "voice_stuck": not found (400): Invalid voice id'
            assert info.value.status == 400
            gone = await client.delete_clone("voice_other")  # not listed: gone
            assert gone.already_gone

    run(main())
    assert counts["GET /waves/v1/voice-cloning"] == 2


def test_delete_404_then_absent_is_already_gone_and_other_400s_stand_when_listed() -> None:
    async def delete(request: Request) -> Response:
        body = await request.json()
        if body["voiceId"] == "voice_404":
            return JSONResponse({"error": "Not Found"}, status_code=404)
        return JSONResponse({"error": "voiceId is malformed"}, status_code=400)

    async def listing(request: Request) -> Response:
        return JSONResponse({"data": [{"voiceId": "voice_bad"}]})

    client, _ = make_client(
        [
            Route("/waves/v1/lightning-large", delete, methods=["DELETE"]),
            Route("/waves/v1/voice-cloning", listing, methods=["GET"]),
        ]
    )

    async def main() -> None:
        async with client:
            assert (await client.delete_clone("voice_404")).already_gone
            with pytest.raises(BadRequestError, match="voiceId is malformed"):
                await client.delete_clone("voice_bad")

    run(main())


def test_retry_after_as_an_http_date_is_honoured() -> None:
    tries: list[float] = []  # wall-clock times of the tries, as the server sees them
    dates: list[datetime] = []

    async def listing(request: Request) -> Response:
        tries.append(time.time())
        if len(tries) == 1:
            when = (datetime.now(timezone.utc) + timedelta(seconds=2)).replace(microsecond=0)
            dates.append(when)
            return JSONResponse(
                {"error": "Too many requests"},
                status_code=429,
                headers={"Retry-After": format_datetime(when, usegmt=True)},
            )
        return JSONResponse({"data": []})

    client, _ = make_client([Route("/waves/v1/voice-cloning", listing, methods=["GET"])])

    async def main() -> None:
        async with client:
            assert await client.list_clones() == []

    run(main())
    assert len(tries) == 2
    # Not before the date it was given (however long the client took to read it);
    # 50 ms for the wall clock and the sleeping clock being different clocks.
    assert tries[1] >= dates[0].timestamp() - 0.05


def test_retry_after_on_a_503_is_honoured_too() -> None:
    tries: list[float] = []

    async def listing(request: Request) -> Response:
        tries.append(time.monotonic())
        if len(tries) == 1:
            return JSONResponse({"error": "busy"}, status_code=503, headers={"Retry-After": "0.3"})
        return JSONResponse({"data": []})

    client, _ = make_client([Route("/waves/v1/voice-cloning", listing, methods=["GET"])])
    run(_use(client, client.list_clones()))
    assert tries[1] - tries[0] >= 0.3


async def _use(client: WavesClient, coro):
    async with client:
        return await coro


def test_lenient_parsing_of_odd_entries(caplog: pytest.LogCaptureFixture) -> None:
    async def listing(request: Request) -> Response:
        return JSONResponse(
            {
                "data": [
                    {"voiceId": "voice_min"},
                    {
                        "voiceId": "voice_full",
                        "displayName": "Full",
                        "tags": "a, b ,c",
                        "model": {"_id": "x", "modelName": "lightning-v3.1"},
                        "brandNewField": {"nested": True},
                        "status": "completed",
                    },
                    {"voiceId": "voice_str_model", "model": "lightning-large", "tags": None},
                    {"displayName": "no id"},
                    "not even an object",
                ],
                "pagination": None,
            }
        )

    async def legacy(request: Request) -> Response:
        return JSONResponse({"voices": [{"voiceId": "voice_old", "model": "lightning-large"}]})

    client, _ = make_client(
        [
            Route("/waves/v1/voice-cloning", listing, methods=["GET"]),
            Route("/waves/v1/lightning-large/get_cloned_voices", legacy, methods=["GET"]),
        ]
    )

    async def main() -> None:
        async with client:
            clones = await client.list_clones()
            assert [c.voice_id for c in clones] == ["voice_min", "voice_full", "voice_str_model"]
            assert clones[0].display_name == "" and clones[0].tags == []
            assert clones[1].tags == ["a", "b", "c"] and clones[1].is_current
            assert clones[2].is_legacy and clones[2].models == ["lightning-large"]
            (old,) = await client.list_legacy_voices()
            assert old.is_legacy

    with caplog.at_level(logging.WARNING, logger="reconciler.api"):
        run(main())
    assert sum("has no voiceId; ignored" in r.getMessage() for r in caplog.records) == 2


ODD_BUT_READABLE = [
    {"voiceId": "voice_min"},
    {
        "voiceId": "voice_full",
        "_id": "rec1",
        "displayName": None,
        "tags": "a, b ,c",
        "model": {"_id": "x", "modelName": "lightning-v3.1"},
        "modelIds": None,
        "samples": None,
        "organizationId": "",
        "brandNewField": {"nested": True},
    },
    {"voice_id": "voice_snake", "model_ids": "lightning-v3.1", "samples": [{"audioUrl": "u"}]},
]


@pytest.mark.parametrize("extra", [[], ["not an object", {"voiceId": ""}]])
def test_a_list_read_in_one_pass_gives_the_clones_an_entry_by_entry_read_gives(extra) -> None:
    """Every entry readable: one validation of the bytes; one odd entry: entry by entry
    (the odd ones left out). Both give the same clones, normalised the same way."""

    async def listing(request: Request) -> Response:
        return JSONResponse({"data": ODD_BUT_READABLE + extra, "pagination": None})

    client, _ = make_client([Route("/waves/v1/voice-cloning", listing, methods=["GET"])])
    clones = run(_use(client, client.list_clones()))
    assert clones == [Clone.from_api(entry) for entry in ODD_BUT_READABLE]
    full = clones[1]
    assert (full.display_name, full.tags, full.model, full.models) == (
        "",
        ["a", "b", "c"],
        "lightning-v3.1",
        ["lightning-v3.1"],
    )
    assert full.record_id == "rec1" and full.organization_id is None and full.samples == []
    assert clones[2].models == ["lightning-v3.1"] and clones[2].samples[0].audio_url == "u"


@pytest.mark.parametrize(
    "body",
    [b'{"message": "ok", "data": {"voiceId": "voice_', b"<html>ok</html>", b'{"message": "ok"}'],
)
def test_an_unreadable_200_to_a_create_is_ambiguous(body: bytes) -> None:
    async def create(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    client, counts = make_client([Route("/waves/v1/voice-cloning", create, methods=["POST"])])

    async def main() -> None:
        async with client:
            with pytest.raises(AmbiguousCreateError, match=r'^create "N": unreadable response'):
                await client.create_clone(CloneRequest(display_name="N", file=WAV))

    run(main())
    assert counts["POST /waves/v1/voice-cloning"] == 1


def test_403_and_other_4xx_are_definite() -> None:
    async def listing(request: Request) -> Response:
        return JSONResponse({"message": "Forbidden for this plan"}, status_code=403)

    async def create(request: Request) -> Response:
        await request.body()
        return Response("Payload Too Large", status_code=413)

    client, counts = make_client(
        [
            Route("/waves/v1/voice-cloning", listing, methods=["GET"]),
            Route("/waves/v1/voice-cloning", create, methods=["POST"]),
        ]
    )

    async def main() -> None:
        async with client:
            with pytest.raises(AuthError, match=r"\(403\): Forbidden for this plan"):
                await client.list_clones()
            with pytest.raises(BadRequestError, match=r"bad request \(413\): Payload Too Large"):
                await client.create_clone(CloneRequest(display_name="N", file=WAV))

    run(main())
    assert counts == {"GET /waves/v1/voice-cloning": 1, "POST /waves/v1/voice-cloning": 1}


def test_a_server_echoing_the_key_cannot_make_the_client_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def echo(request: Request) -> Response:
        await request.body()
        auth = request.headers.get("authorization", "")
        return JSONResponse(
            {"error": f"boom with {auth}", "error_code": f"code-{auth}"}, status_code=500
        )

    client, _ = make_client(
        [Route("/waves/v1/voice-cloning", echo, methods=["GET", "POST"])], max_tries=2
    )

    async def main() -> list[BaseException]:
        async with client:
            errors: list[BaseException] = []
            for call in (
                client.list_clones(),
                client.create_clone(CloneRequest(display_name=f"name {KEY}", file=WAV)),
            ):
                try:
                    await call
                except Exception as exc:
                    errors.append(exc)
            return errors

    with caplog.at_level(logging.DEBUG):
        errors = run(main())
    assert isinstance(errors[0], ServerError) and isinstance(errors[1], AmbiguousCreateError)
    for exc in errors:
        for text in (str(exc), repr(exc), str(getattr(exc, "cause", "")), str(exc.__dict__)):
            assert KEY not in text
        assert "Bearer ***" in str(exc)
    for record in caplog.records:
        assert KEY not in record.getMessage()


def test_a_base_url_with_a_path_keeps_its_path_on_every_request() -> None:
    """An API behind a gateway at ``/gateway/``: each request path is joined to the base
    URL's path (once per path, then reused), never put in its place."""
    seen: list[str] = []

    async def listing(request: Request) -> Response:
        seen.append(f"{request.url.path}?{request.url.query}")
        return JSONResponse({"data": [{"voiceId": "voice_a", "displayName": "A"}]})

    app = Starlette(routes=[Route("/gateway/waves/v1/voice-cloning", listing, methods=["GET"])])
    client = WavesClient(
        base_url="http://waves.test/gateway", api_key=KEY, transport=httpx.ASGITransport(app=app)
    )

    async def main() -> None:
        async with client:
            for _ in range(2):
                assert [c.voice_id for c in await client.list_clones()] == ["voice_a"]

    run(main())
    assert seen == ["/gateway/waves/v1/voice-cloning?"] * 2


def test_a_web_server_that_is_not_the_api_is_named_not_pasted() -> None:
    """--api-url pointing at some other web server: its HTML 404 page is not pasted
    into the error; the error says what the URL probably is."""

    async def page(request: Request) -> Response:
        html = "<!DOCTYPE HTML>\n<html><head><title>Error response</title></head>\n</html>"
        return Response(html, status_code=404, media_type="text/html")

    client, _counts = make_client([Route("/waves/v1/voice-cloning", page, methods=["GET"])])

    async def main() -> None:
        async with client:
            await client.list_clones()

    with pytest.raises(NotFoundError) as info:
        run(main())
    message = str(info.value)
    assert "<" not in message and "\n" not in message
    assert message == (
        "list clones: not found (404): an HTML page (http://waves.test is not the Waves API, "
        "or not at this path: check --api-url / VOICECTL_API_URL)"
    )


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_nested_too_deeply_is_an_unreadable_answer(status: int) -> None:
    """A list answer (or an error body) nested 100,000 deep: an unreadable answer,
    never the JSON reader's RecursionError as an internal error."""
    deep = b"[" * 100_000 + b"]" * 100_000

    async def listing(request: Request) -> Response:
        return Response(deep, status_code=status, media_type="application/json")

    client, _counts = make_client(
        [Route("/waves/v1/voice-cloning", listing, methods=["GET"])], max_tries=1
    )

    async def main() -> None:
        async with client:
            await client.list_clones()

    expected = ServerError if status == 500 else TransportError
    with pytest.raises(expected) as info:
        run(main())
    if status == 200:
        assert "unreadable response: invalid JSON (RecursionError) in a 200 answer" in str(
            info.value
        )
