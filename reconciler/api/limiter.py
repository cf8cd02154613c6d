"""One adaptive concurrency limit for every request a client makes.

The Waves service limits concurrent requests per organisation but does not
publish the number; a request over it gets 429. :class:`AdaptiveLimiter` finds
the number at run time with AIMD, as TCP does with its congestion window:

* the window starts at 4 and grows while requests succeed: by one per success
  below the slow-start threshold (so it doubles every round trip), by one per
  window's worth of successes above it. A start at 2 left half of any limit of 4
  or more idle for the first round; the later probe past the limit draws the same
  429s either way, and only a limit of 1 sees two more on the first round;
* a 429 halves the window (once per round: 429s of requests sent before the
  last decrease belong to the same congestion event);
* a 429 also teaches a CEILING. The server refused request R because it already
  had L requests of ours admitted, and every one of those overlapped R in time
  on our side. So L <= the number of our requests that overlapped R and were
  not themselves refused. That bound is exact as soon as R's neighbours have
  answered, and the window never grows past it, so after the first burst of
  429s the client stops probing above the server's limit. After a long quiet
  spell (``reprobe_after`` seconds without a 429) the ceiling is raised by one,
  in case the limit went up or the 429s came from someone else's load;
* the window never exceeds ``max_window`` (the user's ``--parallelism``) and
  never drops below 1.

The arithmetic is synchronous and clock-injectable (``try_acquire`` /
``release``) so it can be unit-tested without HTTP or an event loop; ``acquire``
and ``slot()`` add FIFO waiting on top for asyncio callers.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass


class Signal(enum.Enum):
    """What a finished request says about the server's capacity."""

    SUCCESS = "success"  # the server took and answered it (2xx, or a 4xx other than 429)
    RATE_LIMITED = "rate_limited"  # 429: over the limit
    NEUTRAL = "neutral"  # 5xx, transport error, cancelled: says nothing either way


@dataclass
class LimiterStats:
    """Counters for diagnostics and benchmarks."""

    acquired: int = 0
    succeeded: int = 0
    rate_limited: int = 0
    neutral: int = 0
    decreases: int = 0  # halvings of the window
    ceiling_changes: int = 0
    max_in_flight: int = 0
    waited: int = 0  # acquires that had to queue

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Slot:
    """One request's hold on the limiter, from before it is sent until its answer is read."""

    __slots__ = (
        "_limiter",
        "bound",
        "full",
        "granted_at",
        "limit_at_grant",
        "outcome",
        "overlaps",
        "released",
        "seq",
        "watchers",
    )

    def __init__(self, limiter: AdaptiveLimiter, seq: int, limit: int, now: float):
        self._limiter = limiter
        self.seq = seq
        self.limit_at_grant = limit
        self.granted_at = now
        self.full = False  # did the window fill up while this request was in flight?
        self.outcome = Signal.NEUTRAL
        self.released = False
        self.overlaps: set[Slot] = set()  # other requests in flight at the same time
        self.watchers: set[Slot] = set()  # refused requests whose ceiling bound counts us
        self.bound: int | None = None  # if refused: our bound on the server's limit

    def succeeded(self) -> None:
        self.outcome = Signal.SUCCESS

    def rate_limited(self) -> None:
        self.outcome = Signal.RATE_LIMITED

    def neutral(self) -> None:
        self.outcome = Signal.NEUTRAL

    def __repr__(self) -> str:
        return f"Slot(seq={self.seq}, outcome={self.outcome.value}, released={self.released})"


class AdaptiveLimiter:
    """AIMD concurrency window with a learned ceiling; see the module docstring."""

    def __init__(
        self,
        max_window: int = 8,
        *,
        initial_window: int = 4,
        reprobe_after: float = 30.0,
        grace: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if max_window < 1:
            raise ValueError("max_window (parallelism) must be at least 1")
        self.max_window = max_window
        self.reprobe_after = reprobe_after
        # A request released less than `grace` seconds before another was sent may
        # still be counted by a server whose bookkeeping lags its answers: a grace
        # counts it as overlapping. Off by default: it must stay well below the
        # requests' latency, or the bound stays loose and the ceiling never settles.
        self.grace = grace
        self._clock = clock
        self._window = float(max(1, min(initial_window, max_window)))
        self._ssthresh = float(max_window)
        self._ceiling: int | None = None
        self._last_429: float | None = None
        self._ceiling_since: float | None = None
        self._in_flight = 0
        self._live: set[Slot] = set()
        self._recent: deque[tuple[float, Slot]] = deque()
        self._seq = 0
        self._recovery_seq = 0  # 429s of slots granted before this belong to the last event
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self.stats = LimiterStats()

    # -- state -------------------------------------------------------------

    @property
    def window(self) -> float:
        """The congestion window (fractional during additive increase)."""
        return self._window

    @property
    def ceiling(self) -> int | None:
        """The learned upper bound on the server's limit, or None before any 429."""
        return self._ceiling

    @property
    def ssthresh(self) -> float:
        return self._ssthresh

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def limit(self) -> int:
        """How many requests may be in flight right now."""
        return max(1, min(self._cap(), math.floor(self._window)))

    def _cap(self) -> int:
        return self.max_window if self._ceiling is None else min(self.max_window, self._ceiling)

    def __repr__(self) -> str:
        return (
            f"AdaptiveLimiter(window={self._window:.2f}, limit={self.limit}, "
            f"ceiling={self._ceiling}, in_flight={self._in_flight}, max={self.max_window})"
        )

    # -- acquiring and releasing -------------------------------------------

    def try_acquire(self) -> Slot | None:
        """A slot if one is free now, else None (no waiting)."""
        if self._in_flight >= self.limit:
            return None
        return self._grant()

    async def acquire(self) -> Slot:
        """Wait (first come, first served) for a free slot."""
        if not self._waiters:
            slot = self.try_acquire()
            if slot is not None:
                return slot
        self.stats.waited += 1
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(future.result(), Signal.NEUTRAL)  # granted, then cancelled
            else:
                with suppress(ValueError):
                    self._waiters.remove(future)
            raise

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold a slot for the body of the ``async with``; mark its outcome inside."""
        held = await self.acquire()
        try:
            yield held
        finally:
            self.release(held)

    def _grant(self) -> Slot:
        now = self._clock()
        self._seq += 1
        slot = Slot(self, self._seq, self.limit, now)
        self._in_flight += 1
        self.stats.acquired += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)
        while self._recent and now - self._recent[0][0] >= self.grace:
            self._recent.popleft()
        for other in self._live:
            other.overlaps.add(slot)
            slot.overlaps.add(other)
        for _, other in self._recent:
            slot.overlaps.add(other)
        self._live.add(slot)
        if self._in_flight >= self.limit:
            for other in self._live:
                other.full = True
        return slot

    def release(self, slot: Slot, outcome: Signal | None = None) -> None:
        """Give the slot back and learn from its outcome (idempotent)."""
        if slot.released:
            return
        if outcome is not None:
            slot.outcome = outcome
        slot.released = True
        self._live.discard(slot)
        self._in_flight -= 1
        now = self._clock()
        if slot.outcome is Signal.SUCCESS:
            self.stats.succeeded += 1
            self._on_success(slot, now)
        elif slot.outcome is Signal.RATE_LIMITED:
            self.stats.rate_limited += 1
            self._on_rate_limited(slot, now)
        else:
            self.stats.neutral += 1
        # This slot's outcome is now known: refused requests that counted it as a
        # possible occupant of the server need no update unless it too was refused
        # (handled in _on_rate_limited); drop the links so nothing chains in memory.
        slot.watchers.clear()
        slot.overlaps.clear()
        if self.grace > 0:
            self._recent.append((now, slot))
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self.limit:
            future = self._waiters.popleft()
            if future.done():
                continue
            future.set_result(self._grant())

    # -- the arithmetic -----------------------------------------------------

    def _on_success(self, slot: Slot, now: float) -> None:
        self._maybe_reprobe(now)
        if not slot.full:  # app-limited: the window was not used, so it was not tested
            return
        if self._window < self._ssthresh:
            self._window += 1.0  # slow start: +1 per success, doubles per round trip
        else:
            self._window += 1.0 / max(1, math.floor(self._window))  # +1 per window
        self._window = min(self._window, float(self._cap()))

    def _on_rate_limited(self, slot: Slot, now: float) -> None:
        self._last_429 = now
        # Upper bound on the server's limit: our requests that overlapped this one
        # and were not refused themselves (still-unanswered ones count, for now).
        bound = sum(
            1 for o in slot.overlaps if not (o.released and o.outcome is Signal.RATE_LIMITED)
        )
        self._lower_ceiling(bound, now)
        # Refused requests that counted this one as an occupant: tighten their bound.
        for refused in list(slot.watchers):
            if refused.bound is not None:
                refused.bound -= 1
                self._lower_ceiling(refused.bound, now)
        # Register with still-running neighbours: if one of them is refused later,
        # it was not an occupant, and this bound drops by one.
        slot.bound = bound
        for other in slot.overlaps:
            if not other.released:
                other.watchers.add(slot)
        if slot.seq > self._recovery_seq:
            self._window = max(1.0, self._window / 2.0)  # multiplicative decrease
            self._recovery_seq = self._seq  # later 429s of earlier requests: same event
            self.stats.decreases += 1
        self._ssthresh = float(self._cap())  # slow-start back up to the ceiling
        self._window = max(1.0, min(self._window, float(self._cap())))

    def _lower_ceiling(self, bound: int, now: float) -> None:
        bound = max(1, bound)
        if self._ceiling is None or bound < self._ceiling:
            self._ceiling = min(bound, self.max_window)
            self._ceiling_since = now
            self.stats.ceiling_changes += 1

    def _maybe_reprobe(self, now: float) -> None:
        """After a long spell without 429s, allow one more than the ceiling."""
        if self._ceiling is None or self._ceiling >= self.max_window:
            return
        quiet_since = max(self._last_429 or 0.0, self._ceiling_since or 0.0)
        if now - quiet_since >= self.reprobe_after:
            self._ceiling += 1
            self._ceiling_since = now
            self.stats.ceiling_changes += 1
