"""The client deletes on whichever route the service allows today, over sockets.

The real ``voicectl sandbox serve`` plays each world (its profiles and
``delete_route``); the request counts in its statistics prove one probe per run,
never a loop; the retired routes' 410 answers and the TTS array errors become
typed errors with the server's words.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sandbox_support import DELETE, DELETE_V2, KEY

from reconciler.api import (
    AuthError,
    CloneRequest,
    DeleteUnavailableError,
    DeprecatedRouteError,
    NotFoundError,
    WavesClient,
)

pytestmark = pytest.mark.e2e

WAV = Path(__file__).parents[1] / "fixtures" / "audio" / "tone-6s.wav"
OLD = f"DELETE {DELETE}"
NEW = f"POST {DELETE_V2}"


def client(server, **kwargs) -> WavesClient:
    kwargs.setdefault("api_key", KEY)
    return WavesClient(base_url=server.url, backoff_base=0.01, backoff_cap=0.05, **kwargs)


async def make(api: WavesClient, n: int) -> list[str]:
    made = [await api.create_clone(CloneRequest(f"v{i}", WAV, language="en")) for i in range(n)]
    return [c.voice_id for c in made]


def deletes(server) -> dict[str, int]:
    requests = server.stats()["requests"]
    return {route: requests.get(route, 0) for route in (OLD, NEW)}


@pytest.mark.parametrize(
    ("world", "route", "expected"),
    [
        ({}, "lightning-large", {OLD: 3, NEW: 0}),
        (
            {"profile": "current", "delete_route": "voice-cloning"},
            "voice-cloning",
            {OLD: 1, NEW: 3},
        ),
        ({"delete_route": "voice-cloning"}, "voice-cloning", {OLD: 1, NEW: 3}),
    ],
)
def test_auto_finds_the_route_once(sandbox_server, world, route, expected) -> None:
    sandbox_server.reset(**world)

    async def main() -> None:
        async with client(sandbox_server) as api:
            ids = await make(api, 3)
            sandbox_server.reset_stats()
            results = await asyncio.gather(*(api.delete_clone(v) for v in ids))
            assert [r.already_gone for r in results] == [False, False, False]
            assert api.delete_route == route and api.delete_unavailable is None
            assert await api.list_clones() == []

    asyncio.run(main())
    assert deletes(sandbox_server) == expected


def test_no_route_deletes_one_probe_per_run(sandbox_server) -> None:
    sandbox_server.reset(profile="current")

    async def main() -> None:
        async with client(sandbox_server) as api:
            ids = await make(api, 4)
            sandbox_server.reset_stats()
            outcomes = await asyncio.gather(
                *(api.delete_clone(v) for v in ids), return_exceptions=True
            )
            assert all(isinstance(o, DeleteUnavailableError) for o in outcomes)
            reason = api.delete_unavailable
            assert reason == (
                f"{OLD}: retired (410 MODEL_DEPRECATED); {NEW}: this key may not delete (401)"
            )
            assert outcomes[0].reason == reason and reason in str(outcomes[0])
            assert len(await api.list_clones()) == 4

    asyncio.run(main())
    stats = sandbox_server.stats()
    assert deletes(sandbox_server) == {OLD: 1, NEW: 1}  # one probe, not one per clone
    assert stats["requests"]["GET /waves/v1/voice-cloning"] == 2  # the 401 check + ours


def test_delete_via_pins_one_route(sandbox_server) -> None:
    sandbox_server.reset(delete_route="voice-cloning")

    async def main() -> None:
        async with client(sandbox_server, delete_via="lightning-large") as api:
            (voice,) = await make(api, 1)
            with pytest.raises(DeleteUnavailableError) as info:
                await api.delete_clone(voice)
            assert info.value.reason == f"{OLD}: retired (410 MODEL_DEPRECATED)"
        async with client(sandbox_server, delete_via="voice-cloning") as api:
            assert not (await api.delete_clone(voice)).already_gone
            assert (await api.delete_clone(voice)).already_gone

    asyncio.run(main())
    assert deletes(sandbox_server) == {OLD: 1, NEW: 2}
    with pytest.raises(ValueError, match="sideways"):
        WavesClient(base_url="http://127.0.0.1:1", api_key=KEY, delete_via="sideways")


def test_a_bad_key_is_an_auth_error_not_a_delete_verdict(sandbox_server) -> None:
    sandbox_server.reset(api_keys=[KEY])

    async def main() -> None:
        async with client(sandbox_server, api_key="sk-wrong-key-0000") as api:
            with pytest.raises(AuthError):
                await api.delete_clone("voice_abcdefghij")
            assert api.delete_unavailable is None and api.delete_route is None

    asyncio.run(main())


def test_probe_deletes_nothing_in_any_world(sandbox_server) -> None:
    for world, verdicts in (
        ({}, {"lightning-large": True, "voice-cloning": False}),
        ({"profile": "current"}, {"lightning-large": False, "voice-cloning": False}),
        (
            {"profile": "current", "delete_route": "voice-cloning"},
            {"lightning-large": False, "voice-cloning": True},
        ),
    ):
        sandbox_server.reset(**world)

        async def main() -> dict[str, bool]:
            async with client(sandbox_server) as api:
                await make(api, 1)
                return {
                    name: (await api.probe_delete_route(name)).works
                    for name in ("lightning-large", "voice-cloning")
                }

        assert asyncio.run(main()) == verdicts, world
        assert sandbox_server.stats()["clones_deleted"] == 0
        assert len(sandbox_server.clones()) == 1


def test_retired_routes_are_typed_errors(sandbox_server) -> None:
    sandbox_server.reset(profile="current")

    async def main() -> None:
        async with client(sandbox_server) as api:
            with pytest.raises(DeprecatedRouteError) as info:
                await api.list_legacy_voices()
            error = info.value
            assert error.status == 410
            assert error.recommended_endpoint == "POST /waves/v1/voice-cloning"
            assert "deprecated" in error.server_message
            assert str(error).startswith(
                "list legacy voices: retired by the service (410 MODEL_DEPRECATED): "
            )
            with pytest.raises(NotFoundError) as unknown:
                await api.tts("voice_nope", "Hello")
            assert "voice_id: Invalid Voice ID" in str(unknown.value)
            (voice,) = await make(api, 1)
            audio = await api.tts(voice, "Hello there")  # sends Accept: audio/wav
            assert audio[:4] == b"RIFF" and len(audio) > 2000

    asyncio.run(main())
