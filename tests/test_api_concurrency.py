"""The adaptive limiter against a real sandbox with an unpublished concurrency limit.

The issue's requirement: with the server at ``--concurrency-limit 4`` and 40
concurrent creates, no operation fails because of 429s, and after warm-up the
server's observed in-flight maximum stays at the limit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from test_api_support import KEY, Sandbox, run, sandbox_fixture

from reconciler.api import CloneRequest, WavesClient
from reconciler.sandbox.config import org_id_for_key

pytestmark = pytest.mark.e2e

WAV = Path(__file__).parent / "fixtures" / "audio" / "tone-6s.wav"
ORG = org_id_for_key(KEY)

srv_fixture = sandbox_fixture()


@pytest.mark.parametrize("limit", [4, 3])
def test_40_concurrent_creates_find_the_limit_and_stay_at_it(srv: Sandbox, limit: int) -> None:
    srv.reset(concurrency_limit=limit, latency_ms=120)
    warm_up = 10
    done = 0
    after_warm_up: dict = {}

    async def main() -> WavesClient:
        nonlocal done
        async with (
            WavesClient(base_url=srv.url, api_key=KEY) as api,  # parallelism: default 8
            httpx.AsyncClient(base_url=srv.url) as hooks,
        ):

            async def create(n: int) -> None:
                nonlocal done
                await api.create_clone(CloneRequest(display_name=f"v{n:02d}", file=WAV))
                done += 1
                if done == warm_up:  # from here on, the server's counters start afresh
                    after_warm_up["ceiling"] = api.limiter.ceiling
                    (await hooks.post("/_sandbox/stats/reset")).raise_for_status()

            results = await asyncio.gather(*(create(n) for n in range(40)), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert failures == [], failures[:3]
            return api

    api = run(main())
    stats = srv.stats()
    seen = f"{api.limiter!r} {api.limiter.stats} warm-up {after_warm_up}; server {stats}"
    assert after_warm_up["ceiling"] == limit, seen  # learnt during warm-up
    assert api.limiter.ceiling == limit, seen
    assert stats["max_in_flight"][ORG] <= limit, seen  # refused ones count here too
    assert stats["max_admitted"][ORG] == limit, seen  # and the capacity is used fully
    assert stats["rate_limited"] == 0, seen  # no probing above the limit after warm-up
    assert len(srv.clones(KEY)) == 40  # no duplicates, nothing lost


def test_parallelism_caps_the_window_even_without_a_server_limit(srv: Sandbox) -> None:
    srv.reset(latency_ms=60)

    async def main() -> None:
        async with WavesClient(base_url=srv.url, api_key=KEY, parallelism=3) as api:
            await asyncio.gather(*(api.list_clones() for _ in range(30)))
            assert api.limiter.ceiling is None and api.limiter.limit == 3

    run(main())
    assert srv.stats()["max_in_flight"][ORG] == 3
