"""The adaptive limiter's arithmetic, as a pure object: no HTTP, a fake clock."""

from __future__ import annotations

import asyncio
import random

import pytest

from reconciler.api.limiter import AdaptiveLimiter, Signal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(max_window: int = 8, **kwargs) -> tuple[AdaptiveLimiter, Clock]:
    clock = Clock()
    kwargs.setdefault("grace", 0.0)
    kwargs.setdefault("initial_window", 2)  # the arithmetic below is written for 2
    return AdaptiveLimiter(max_window, clock=clock, **kwargs), clock


def fill(limiter: AdaptiveLimiter) -> list:
    slots = []
    while (slot := limiter.try_acquire()) is not None:
        slots.append(slot)
    return slots


def test_starts_small_and_refuses_past_the_window() -> None:
    limiter, _ = make()
    slots = fill(limiter)
    assert len(slots) == 2
    assert limiter.limit == 2 and limiter.in_flight == 2
    assert limiter.try_acquire() is None
    limiter.release(slots[0], Signal.SUCCESS)
    assert limiter.in_flight == 1


def test_slow_start_doubles_per_round_up_to_parallelism() -> None:
    limiter, _ = make(8)
    sizes = []
    for _ in range(5):
        slots = fill(limiter)
        sizes.append(len(slots))
        for slot in slots:
            limiter.release(slot, Signal.SUCCESS)
    assert sizes == [2, 4, 8, 8, 8]
    assert limiter.window == 8 and limiter.ceiling is None


def test_the_default_window_starts_at_four() -> None:
    """A first round as wide as a limit of 4: the old start at 2 left half of it idle."""
    limiter = AdaptiveLimiter(8, clock=Clock())
    slots = fill(limiter)
    assert len(slots) == 4 and limiter.try_acquire() is None
    for slot in slots:
        limiter.release(slot, Signal.SUCCESS)
    assert len(fill(limiter)) == 8  # then slow start doubles it, as before
    assert len(fill(AdaptiveLimiter(3, clock=Clock()))) == 3  # never above --parallelism


def test_initial_window_never_above_parallelism() -> None:
    limiter, _ = make(1, initial_window=4)
    assert limiter.limit == 1
    assert len(fill(limiter)) == 1


def test_app_limited_use_does_not_grow_the_window() -> None:
    limiter, _ = make(8)
    for _ in range(20):  # one request at a time never tests a window of 2
        slot = limiter.try_acquire()
        limiter.release(slot, Signal.SUCCESS)
    assert limiter.window == 2


def test_neutral_outcomes_neither_grow_nor_shrink() -> None:
    limiter, _ = make(8)
    for _ in range(5):
        for slot in fill(limiter):
            limiter.release(slot, Signal.NEUTRAL)
    assert limiter.window == 2 and limiter.ceiling is None
    assert limiter.stats.neutral == 10


@pytest.mark.parametrize("order", ["refused_first", "admitted_first", "shuffled"])
def test_a_burst_of_429s_teaches_the_exact_limit(order: str) -> None:
    """8 in flight, the server (limit 4) admits 4 and refuses 4: ceiling becomes 4."""
    limiter, _ = make(8, initial_window=8)
    slots = fill(limiter)
    assert len(slots) == 8
    admitted, refused = slots[:4], slots[4:]
    events = [(s, Signal.SUCCESS) for s in admitted] + [(s, Signal.RATE_LIMITED) for s in refused]
    if order == "refused_first":
        events = events[4:] + events[:4]
    elif order == "shuffled":
        random.Random(7).shuffle(events)
    for slot, outcome in events:
        limiter.release(slot, outcome)
    assert limiter.ceiling == 4
    assert limiter.limit <= 4
    assert limiter.stats.decreases == 1  # one congestion event, one halving


def test_429s_halve_once_per_round_and_the_window_recovers_to_the_ceiling() -> None:
    limiter, _ = make(8, initial_window=8)
    slots = fill(limiter)
    for slot in slots[:3]:
        limiter.release(slot, Signal.SUCCESS)
    for slot in slots[3:]:
        limiter.release(slot, Signal.RATE_LIMITED)
    assert limiter.ceiling == 3
    assert limiter.window == 3  # 8 (grown to cap 8) halved to 4, then capped at the ceiling
    # A later round with one more refusal: halves again (a new event).
    slots = fill(limiter)
    assert len(slots) == 3
    limiter.release(slots[0], Signal.RATE_LIMITED)
    assert limiter.window == 1.5 and limiter.limit == 1
    assert limiter.stats.decreases == 2
    assert limiter.ceiling == 2  # two others overlapped it, unanswered yet: bound 2
    for slot in slots[1:]:
        limiter.release(slot, Signal.SUCCESS)
    # Slow start back to the ceiling (ssthresh = ceiling), and never above it.
    for _ in range(6):
        for slot in fill(limiter):
            limiter.release(slot, Signal.SUCCESS)
    assert limiter.limit == 2 and limiter.window == 2


def test_never_below_one() -> None:
    limiter, _ = make(4)
    for _ in range(10):
        slot = limiter.try_acquire()
        assert slot is not None
        limiter.release(slot, Signal.RATE_LIMITED)
    assert limiter.window == 1 and limiter.limit == 1 and limiter.ceiling == 1


def test_a_refusal_counts_answered_neighbours_and_later_refusals_tighten_it() -> None:
    limiter, _ = make(8, initial_window=6)
    a, b, c, d, e, f = fill(limiter)
    limiter.release(a, Signal.SUCCESS)
    limiter.release(f, Signal.RATE_LIMITED)  # overlapped a..e, none refused yet
    assert limiter.ceiling == 5
    limiter.release(e, Signal.RATE_LIMITED)  # e and f refused: 4 occupants at most
    assert limiter.ceiling == 4
    limiter.release(d, Signal.RATE_LIMITED)
    assert limiter.ceiling == 3
    for slot in (b, c):
        limiter.release(slot, Signal.SUCCESS)
    assert limiter.ceiling == 3


def test_recently_released_requests_count_within_the_grace() -> None:
    """The server may still count a request whose answer we just read."""
    clock = Clock()
    limiter = AdaptiveLimiter(8, initial_window=2, grace=0.05, clock=clock)
    a, b = fill(limiter)
    limiter.release(a, Signal.SUCCESS)
    c = limiter.try_acquire()
    clock.now += 0.01
    limiter.release(c, Signal.RATE_LIMITED)  # overlapped b live and a just released
    assert limiter.ceiling == 2
    limiter.release(b, Signal.SUCCESS)


def test_additive_increase_above_the_threshold_and_reprobe_after_quiet() -> None:
    limiter, clock = make(8, initial_window=4, reprobe_after=30.0)
    slots = fill(limiter)
    for slot in slots[:3]:
        limiter.release(slot, Signal.SUCCESS)
    limiter.release(slots[3], Signal.RATE_LIMITED)
    assert limiter.ceiling == 3
    for _ in range(3):
        for slot in fill(limiter):
            limiter.release(slot, Signal.SUCCESS)
    assert limiter.limit == 3
    clock.now += 29.0
    for slot in fill(limiter):
        limiter.release(slot, Signal.SUCCESS)
    assert limiter.ceiling == 3  # not quiet long enough
    clock.now += 2.0
    slots = fill(limiter)
    assert len(slots) == 3
    limiter.release(slots[0], Signal.SUCCESS)
    assert limiter.ceiling == 4  # re-probe one above
    # Above the old threshold growth is additive: +1 per window (3) of successes.
    assert limiter.window == pytest.approx(3 + 1 / 3)
    limiter.release(slots[1], Signal.SUCCESS)
    assert limiter.window == pytest.approx(3 + 2 / 3) and limiter.limit == 3
    limiter.release(slots[2], Signal.SUCCESS)
    assert limiter.window == pytest.approx(4) and limiter.limit == 4
    for _ in range(5):
        for slot in fill(limiter):
            limiter.release(slot, Signal.SUCCESS)
    assert limiter.limit == 4  # the ceiling still caps it until the next quiet spell


def test_release_is_idempotent_and_stats_add_up() -> None:
    limiter, _ = make(8)
    a, b = fill(limiter)
    limiter.release(a, Signal.SUCCESS)
    limiter.release(a, Signal.RATE_LIMITED)
    limiter.release(b)  # its own outcome: neutral by default
    stats = limiter.stats.as_dict()
    assert stats["acquired"] == 2 and stats["succeeded"] == 1 and stats["neutral"] == 1
    assert stats["rate_limited"] == 0 and limiter.in_flight == 0


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AdaptiveLimiter(0)


# -- asyncio behaviour -----------------------------------------------------------


def test_waiters_are_served_in_order_and_woken_when_the_window_grows() -> None:
    async def main() -> list[int]:
        limiter = AdaptiveLimiter(8, initial_window=1, grace=0.0)
        first = await limiter.acquire()
        order: list[int] = []

        async def worker(n: int) -> None:
            async with limiter.slot() as slot:
                order.append(n)
                await asyncio.sleep(0)
                slot.succeeded()

        tasks = [asyncio.create_task(worker(n)) for n in range(5)]
        await asyncio.sleep(0)
        assert order == [] and limiter.stats.waited == 5
        first.succeeded()
        first.full = True
        limiter.release(first)
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def main() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(8, initial_window=1, grace=0.0)
        held = await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        limiter.release(held, Signal.NEUTRAL)
        again = limiter.try_acquire()  # free at once: the cancelled waiter is not ahead
        assert again is not None
        limiter.release(again)
        return limiter

    limiter = asyncio.run(main())
    assert limiter.in_flight == 0


def test_finds_an_unpublished_limit_against_a_simulated_server() -> None:
    """A toy server (limit 3, a request takes 5 turns of the event loop) and 120
    requests through the limiter: no request above the limit once the ceiling is known,
    and the window stays there. Turns, not milliseconds: the run is the same however
    busy the machine is."""

    async def turns(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    async def main() -> tuple[AdaptiveLimiter, int, int]:
        limiter = AdaptiveLimiter(8)
        limit = 3
        in_server = 0
        max_after_learning = 0
        refused = 0

        async def request() -> None:
            nonlocal in_server, max_after_learning, refused
            while True:
                async with limiter.slot() as slot:
                    if in_server >= limit:
                        refused += 1
                        slot.rate_limited()
                        await asyncio.sleep(0)
                    else:
                        in_server += 1
                        if limiter.ceiling is not None and limiter.ceiling <= limit:
                            max_after_learning = max(max_after_learning, in_server)
                        await turns(5)
                        in_server -= 1
                        slot.succeeded()
                        return
                await turns(1)

        await asyncio.gather(*(request() for _ in range(120)))
        return limiter, max_after_learning, refused

    limiter, max_after, refused = asyncio.run(main())
    assert limiter.ceiling == 3
    assert limiter.limit == 3
    assert max_after <= 3
    assert refused <= 12, refused  # a few during warm-up, none after
