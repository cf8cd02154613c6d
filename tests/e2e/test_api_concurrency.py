"""The adaptive limiter against a real sandbox with an unpublished concurrency limit.

The issue's requirement: with the server at ``--concurrency-limit 4`` and 40
concurrent creates, no operation fails because of 429s, and after warm-up the
server's observed in-flight maximum stays at the limit.

No assertion here depends on how fast anything runs. "Warm-up" is not a number
of requests but an event: the limiter has learnt the server's limit (its ceiling
equals it). From then on the limiter guarantees that no more than ``limit`` of
our requests are in flight, so the server refuses none; the second batch, sent
after the server's counters were reset with nothing in flight, proves it.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
from api_support import KEY, Sandbox, run, sandbox_fixture

from reconciler.api import CloneRequest, WavesClient
from reconciler.api.limiter import AdaptiveLimiter, LimiterStats
from reconciler.sandbox.config import org_id_for_key

pytestmark = pytest.mark.e2e

WAV = Path(__file__).parents[1] / "fixtures" / "audio" / "tone-6s.wav"
ORG = org_id_for_key(KEY)

srv_fixture = sandbox_fixture()


async def _creates(api: WavesClient, names: range) -> list[BaseException]:
    async def create(n: int) -> None:
        await api.create_clone(CloneRequest(display_name=f"v{n:02d}", file=WAV))

    results = await asyncio.gather(*(create(n) for n in names), return_exceptions=True)
    return [r for r in results if isinstance(r, BaseException)]


@pytest.mark.parametrize("limit", [4, 3])
def test_40_concurrent_creates_find_the_limit_and_stay_at_it(srv: Sandbox, limit: int) -> None:
    # The latency only makes requests overlap so that the limit is hit at all;
    # no assertion depends on it.
    srv.reset(concurrency_limit=limit, latency_ms=120)
    learning: list[str] = []

    async def main() -> tuple[WavesClient, dict, int]:
        # The default parallelism (8); no re-probe above the ceiling after a quiet spell
        # (a clock-driven rule, unit-tested in test_api_limiter.py), however slow the run.
        limiter = AdaptiveLimiter(8, reprobe_after=math.inf)
        async with WavesClient(base_url=srv.url, api_key=KEY, limiter=limiter) as api:
            failures = await _creates(api, range(40))
            assert failures == [], failures[:3]  # every 429 was retried, none surfaced
            learning.append(f"{api.limiter!r} {api.limiter.stats}")
            # Each 429 tightens the ceiling; a bound can be loose (a neighbour's answer
            # already sent but not yet read), so the ceiling may need a few more
            # refusals to become exact. It converges: while it is above the limit the
            # window probes past the limit and draws more 429s.
            more = 40
            while api.limiter.ceiling != limit and more < 70:
                assert await _creates(api, range(more, more + 10)) == []
                more += 10
                learning.append(f"{api.limiter!r} {api.limiter.stats}")
            assert api.limiter.ceiling == limit, learning  # learnt, and never below it

            # After warm-up: nothing in flight, the server's counters start afresh.
            srv.reset_stats()
            api.limiter.stats = LimiterStats()
            failures = await _creates(api, range(more, more + 20))
            assert failures == [], failures[:3]
            return api, srv.stats(), more + 20

    api, stats, total = run(main())
    seen = f"{api.limiter!r} {api.limiter.stats}; server {stats}; learning {learning}"
    assert api.limiter.ceiling == limit, seen  # no probing above the limit after warm-up
    assert stats["rate_limited"] == 0, seen  # so the server refused nothing
    assert stats["max_admitted"][ORG] <= limit, seen
    assert stats["max_in_flight"][ORG] <= limit, seen  # refused ones would count here too
    assert api.limiter.stats.rate_limited == 0, seen
    assert api.limiter.stats.max_in_flight == limit, seen  # and the capacity is used fully
    assert len(srv.clones(KEY)) == total  # no duplicates, nothing lost


def test_parallelism_caps_the_window_even_without_a_server_limit(srv: Sandbox) -> None:
    srv.reset(latency_ms=60)

    async def main() -> WavesClient:
        async with WavesClient(base_url=srv.url, api_key=KEY, parallelism=3) as api:
            await asyncio.gather(*(api.list_clones() for _ in range(30)))
            return api

    api = run(main())
    assert api.limiter.ceiling is None and api.limiter.limit == 3
    assert api.limiter.stats.max_in_flight == 3  # the window filled up to --parallelism
    assert srv.stats()["max_in_flight"][ORG] <= 3  # and never went past it
