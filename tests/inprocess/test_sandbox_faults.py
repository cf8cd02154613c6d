"""The sandbox misbehaving on purpose, in-process: faults, ghosts, lag, 429s, latency, seeds.

The same faults over real sockets (where a drop is a closed socket, not an
exception raised by the app) are in ``test_sandbox_server.py``.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from sandbox_support import (
    ADD_VOICE,
    CLONES,
    DELETE,
    KEY,
    TTS,
    asgi_client,
    multipart,
    org_of,
    until_async,
)

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.faults import FaultEngine

pytestmark = pytest.mark.anyio
ORG = org_of(KEY)


async def outcome(
    client: httpx.AsyncClient, method: str = "GET", path: str = CLONES, **kwargs
) -> str:
    """What a request met: its status, 'truncate' for a cut JSON body, or the exception name."""
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        return type(exc).__name__
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        try:
            response.json()
        except json.JSONDecodeError:
            return "truncate"
    return str(response.status_code)


async def test_drop_raises_remote_protocol_error_in_process(sandbox_app) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=["drop"])
    async with asgi_client(app) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(CLONES)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(CLONES, **multipart())
    assert app.state.sandbox.stats.faults["drop"] == 2


async def test_truncated_json_body(sandbox_app) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=["truncate"])
    async with asgi_client(app) as client:
        response = await client.post(CLONES, **multipart())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert int(response.headers["content-length"]) == len(response.content) > 10
        with pytest.raises(json.JSONDecodeError):
            response.json()
        assert response.content.startswith(b'{"message":"Voice clone created')
    # A truncated create still made its clone.
    assert len(app.state.sandbox.store.org(ORG).clones) == 1


@pytest.mark.parametrize("kind", ["500", "502", "503"])
async def test_server_errors(sandbox_app, kind: str) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=[kind])
    async with asgi_client(app) as client:
        response = await client.get(CLONES)
        assert response.status_code == int(kind)
        assert set(response.json()) == {"error"}
        response = await client.post(CLONES, **multipart())
        assert response.status_code == int(kind)
        body = response.json()
        if kind == "500":
            assert body["error_code"] == "voice_clone_error" and body["error"]
        else:
            assert set(body) == {"error"}
    assert app.state.sandbox.stats.faults[kind] == 2


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop"])
async def test_a_fault_can_hide_a_create_that_happened(sandbox_app, kind: str) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=[kind], seed=1)
    sandbox = app.state.sandbox
    async with asgi_client(app) as client:
        for i in range(24):
            assert await outcome(client, "POST", CLONES, **multipart(f"v{i}")) != "200"
    made = len(sandbox.store.org(ORG).clones)
    assert 0 < made < 24  # some hidden successes, some real failures
    assert sandbox.stats.clones_created == made
    assert sandbox.stats.faults[kind] == 24


async def test_a_fault_can_hide_a_delete_that_happened(sandbox_app) -> None:
    app = sandbox_app(seed=2)
    sandbox = app.state.sandbox
    async with asgi_client(app) as client:
        ids = [
            (await client.post(CLONES, **multipart(f"v{i}"))).json()["data"]["voiceId"]
            for i in range(16)
        ]
        sandbox.update_config({"fault_rate": 1.0, "fault_kinds": ["503"]})
        for voice_id in ids:
            response = await client.request("DELETE", DELETE, json={"voiceId": voice_id})
            assert response.status_code == 503
    assert 0 < len(sandbox.store.org(ORG).clones) < 16


async def test_ghost_create_answers_timeout_but_the_clone_exists(sandbox_app) -> None:
    app = sandbox_app(ghost_rate=1.0)
    async with asgi_client(app) as client:
        response = await client.post(CLONES, **multipart("Ghost", tags="a,b"))
        assert response.status_code == 500
        body = response.json()
        assert body["error_code"] == "voice_clone_timeout" and body["error"]
        (entry,) = (await client.get(CLONES)).json()["data"]
        assert entry["displayName"] == "Ghost" and entry["tags"] == ["a", "b"]
        response = await client.post(ADD_VOICE, **multipart("Old ghost"))
        assert response.json()["error_code"] == "voice_clone_timeout"
        # Only creates ghost; a refused create is not a ghost.
        assert (await client.get(CLONES)).status_code == 200
        assert (await client.post(CLONES, **multipart(""))).status_code == 400
    stats = app.state.sandbox.stats
    assert stats.faults["ghost"] == 2 and stats.clones_created == 2


async def test_list_lag_hides_new_clones_from_lists_only(sandbox_app) -> None:
    app = sandbox_app(list_lag_ms=60_000)
    async with asgi_client(app) as client:
        made = (await client.post(CLONES, **multipart())).json()["data"]
        await client.post(ADD_VOICE, **multipart("Old"))
        assert (await client.get(CLONES)).json() == {"data": []}
        assert (await client.get("/waves/v1/lightning-large/get_cloned_voices")).json() == {
            "voices": []
        }
        state = (await client.get("/_sandbox/state")).json()
        assert [c["listed"] for c in state["orgs"][ORG]["clones"]] == [False, False]
        # It exists: it speaks, and it can be deleted at once.
        tts = await client.post(TTS, json={"text": "hi", "voice_id": made["voiceId"]})
        assert tts.status_code == 200
        response = await client.request("DELETE", DELETE, json={"voiceId": made["voiceId"]})
        assert response.status_code == 200
        assert len((await client.get("/_sandbox/state")).json()["orgs"][ORG]["clones"]) == 1


async def test_list_lag_ends(sandbox_app) -> None:
    app = sandbox_app(list_lag_ms=150)
    async with asgi_client(app) as client:
        made = (await client.post(CLONES, **multipart())).json()["data"]
        data = []
        while not data:  # until it is listed (the test's timeout is the only bound)
            data = (await client.get(CLONES)).json()["data"]
            await asyncio.sleep(0.02)
        assert [e["voiceId"] for e in data] == [made["voiceId"]]


async def test_concurrency_limit_answers_429_at_once(sandbox_app) -> None:
    app = sandbox_app(concurrency_limit=2, retry_after=1.5)
    sandbox = app.state.sandbox
    stats = sandbox.stats
    async with asgi_client(app) as client:
        sandbox.hold(True)  # the admitted ones wait at the gate: the others are refused
        pending = asyncio.gather(*(client.get(CLONES) for _ in range(6)))
        await until_async(lambda: stats.held == 2 and stats.rate_limited == 4, "2 held, 4 429s")
        sandbox.hold(False)
        responses = await pending
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 200, 429, 429, 429, 429]
        for response in responses:
            if response.status_code == 429:
                assert response.json() == {"error": "Too many requests"}
                assert response.headers["retry-after"] == "1.5"
        # Another organisation has its own allowance.
        async with asgi_client(app, "sk-someone-else") as other:
            both = await asyncio.gather(
                client.get(CLONES), client.get(CLONES), other.get(CLONES), other.get(CLONES)
            )
            assert [r.status_code for r in both] == [200, 200, 200, 200]
    assert stats.rate_limited == 4
    assert stats.max_admitted[ORG] == 2
    assert stats.max_in_flight[ORG] >= 3  # the refused ones were in flight too
    assert stats.in_flight[ORG] == 0 and stats.admitted[ORG] == 0


@pytest.mark.parametrize(("retry_after", "header"), [(None, None), (2, "2"), (0.25, "0.25")])
async def test_retry_after_header(sandbox_app, retry_after, header) -> None:
    app = sandbox_app(concurrency_limit=1, retry_after=retry_after)
    sandbox = app.state.sandbox
    async with asgi_client(app) as client:
        sandbox.hold(True)
        pending = asyncio.gather(client.get(CLONES), client.get(CLONES))
        await until_async(lambda: sandbox.stats.rate_limited == 1, "a 429")
        sandbox.hold(False)
        responses = await pending
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == 1
    assert refused[0].headers.get("retry-after") == header


async def test_latency_and_jitter(sandbox_app) -> None:
    app = sandbox_app(latency_ms=150)
    async with asgi_client(app) as client:
        started = time.monotonic()
        assert (await client.get(CLONES)).status_code == 200
        assert time.monotonic() - started >= 0.15
        app.state.sandbox.update_config({"latency_ms": 600_000})  # would hang the test
        assert (await client.get("/_sandbox/stats")).status_code == 200  # hooks: no latency
    config = SandboxConfig(latency_ms=100, jitter_ms=40)
    engine = FaultEngine(seed=5)
    delays = [engine.decide(config, "GET", CLONES).delay_s for _ in range(200)]
    assert all(0.06 <= d <= 0.14 for d in delays)
    assert max(delays) - min(delays) > 0.04


async def test_hold_keeps_admitted_requests_at_the_gate_until_released(sandbox_app) -> None:
    app = sandbox_app(concurrency_limit=1)
    sandbox = app.state.sandbox
    async with asgi_client(app) as client, asgi_client(app, key=None) as hooks:
        assert (await hooks.post("/_sandbox/hold", json={"hold": True})).json() == {
            "hold": True,
            "held_now": 0,
        }
        first = asyncio.create_task(client.get(CLONES))
        await until_async(lambda: sandbox.stats.held == 1, "the request held")
        assert (await client.get(CLONES)).status_code == 429  # it keeps its place
        assert (await hooks.get("/_sandbox/stats")).json()["held_now"] == 1
        assert not first.done()
        assert (await hooks.post("/_sandbox/hold", json={"hold": False})).json() == {
            "hold": False,
            "held_now": 1,
        }
        assert (await first).status_code == 200
        assert sandbox.stats.held == 0 and (await client.get(CLONES)).status_code == 200
        # A reset lets held requests go too.
        sandbox.hold(True)
        second = asyncio.create_task(client.get(CLONES))
        await until_async(lambda: sandbox.stats.held == 1, "the request held")
        assert (await hooks.post("/_sandbox/reset")).status_code == 200
        assert (await second).status_code == 200
        bad = await hooks.post("/_sandbox/hold", json={"hold": "yes"})
        assert bad.status_code == 400 and "hold" in bad.json()["error"]


async def test_hooks_never_fault(sandbox_app) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=["drop"], concurrency_limit=1, latency_ms=100)
    async with asgi_client(app, key=None) as client:
        responses = await asyncio.gather(*(client.get("/_sandbox/stats") for _ in range(5)))
        assert {r.status_code for r in responses} == {200}


async def test_faults_apply_after_auth(sandbox_app) -> None:
    app = sandbox_app(fault_rate=1.0, fault_kinds=["drop"])
    async with asgi_client(app, key=None) as client:
        assert (await client.get(CLONES)).status_code == 401


async def test_fault_kinds_mix(sandbox_app) -> None:
    app = sandbox_app(fault_rate=1.0, seed=4)
    async with asgi_client(app) as client:
        seen = {await outcome(client) for _ in range(60)}
    assert seen == {"500", "502", "503", "RemoteProtocolError", "truncate"}


async def test_fault_rate_is_a_fraction(sandbox_app) -> None:
    app = sandbox_app(fault_rate=0.3, seed=9)
    async with asgi_client(app) as client:
        results = [await outcome(client) for _ in range(200)]
    faulted = sum(r != "200" for r in results)
    assert 30 <= faulted <= 90  # ~60 expected; the seed makes it exact and repeatable


async def test_same_seed_same_faults(sandbox_app) -> None:
    async def run(seed: int) -> list[str]:
        app = sandbox_app(fault_rate=0.5, ghost_rate=0.3, seed=seed, failure_rate=0.5)
        async with asgi_client(app) as client:
            results = []
            for i in range(15):
                results.append(await outcome(client))
                results.append(await outcome(client, "POST", CLONES, **multipart(f"v{i}")))
            results.append(
                json.dumps(
                    sorted(
                        (c.display_name, c.voice_id, c.outcome)
                        for c in app.state.sandbox.store.org(ORG).clones.values()
                    )
                )
            )
            return results

    first = await run(7)
    assert first == await run(7)
    assert first != await run(8)


async def test_reset_and_seed_changes_restart_the_sequence(sandbox_app) -> None:
    app = sandbox_app(fault_rate=0.5, seed=21)
    async with asgi_client(app) as client:
        first = [await outcome(client) for _ in range(20)]
        await client.post("/_sandbox/reset")
        assert [await outcome(client) for _ in range(20)] == first
        await client.post("/_sandbox/config", json={"seed": 21})
        assert [await outcome(client) for _ in range(20)] == first
        await client.post("/_sandbox/reset", json={"seed": 22})
        assert [await outcome(client) for _ in range(20)] != first


async def test_config_changes_apply_to_the_running_app(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as client:
        assert (await client.get(CLONES)).status_code == 200
        await client.post("/_sandbox/config", json={"fault_rate": 1, "fault_kinds": ["503"]})
        assert (await client.get(CLONES)).status_code == 503
        await client.post("/_sandbox/config", json={"fault_rate": 0})
        assert (await client.get(CLONES)).status_code == 200
        await client.post("/_sandbox/config", json={"clone_limit": 0})
        assert "clone limit" in (await client.post(CLONES, **multipart())).json()["error"]
