"""When to try again, and how long to wait: backoff, Retry-After, a retry budget.

Backoff is exponential with FULL jitter (``uniform(0, min(cap, base * 2**n))``,
as in the AWS architecture blog's "Exponential Backoff and Jitter"): clients
that were rejected together do not come back together. A server's
``Retry-After`` (delta-seconds or an HTTP date) replaces the jittered delay.
A :class:`RetryBudget` bounds one operation by a number of tries AND a total
deadline, so nothing retries for ever.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

DEFAULT_BACKOFF_BASE = 0.25
DEFAULT_BACKOFF_CAP = 10.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None if absent/unreadable.

    Accepts delta-seconds (``"3"``, also ``"1.5"`` which some servers send) and an
    HTTP date (``"Wed, 21 Oct 2015 07:28:00 GMT"``). A date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 850/asctime forms carry no zone: they mean GMT
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def backoff_delay(
    failures: int,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    cap: float = DEFAULT_BACKOFF_CAP,
    rng: random.Random | None = None,
) -> float:
    """Full-jitter delay before the next try, after ``failures`` failed tries (>= 1).

    The n-th retry (n = failures - 1, from 0) waits ``uniform(0, min(cap, base * 2**n))``.
    """
    n = max(0, failures - 1)
    ceiling = min(cap, base * (2 ** min(n, 62)))
    return (rng or random).uniform(0.0, ceiling)


@dataclass
class RetryPolicy:
    """How many tries, for how long in total, and the backoff's base and cap (seconds)."""

    max_tries: int = 6
    deadline: float = 120.0
    base: float = DEFAULT_BACKOFF_BASE
    cap: float = DEFAULT_BACKOFF_CAP
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if self.deadline <= 0:
            raise ValueError("deadline must be positive")
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff base and cap must not be negative")

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """The wait before the next try: the server's ``Retry-After`` if given, else backoff."""
        if retry_after is not None:
            return retry_after
        return backoff_delay(failures, base=self.base, cap=self.cap, rng=self.rng)

    def budget(self, clock: Callable[[], float] = time.monotonic) -> RetryBudget:
        return RetryBudget(self, clock)


@dataclass
class RetryBudget:
    """The tries and time one operation has left. The clock starts at the first try."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    tries: int = 0
    started: float | None = field(default=None)

    def start_try(self) -> None:
        if self.started is None:
            self.started = self.clock()
        self.tries += 1

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else self.clock() - self.started

    @property
    def remaining(self) -> float:
        return self.policy.deadline - self.elapsed

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The wait before another try, or None when the tries or the deadline are spent."""
        if self.tries >= self.policy.max_tries:
            return None
        delay = self.policy.delay(self.tries, retry_after)
        if self.elapsed + delay >= self.policy.deadline:
            return None
        return delay
