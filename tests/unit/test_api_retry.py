"""Retry-After parsing, full-jitter backoff bounds, the tries-and-deadline budget."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from reconciler.api.retry import RetryPolicy, backoff_delay, parse_retry_after

NOW = datetime(2026, 4, 20, 9, 42, 17, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 120 ", 120.0), ("0", 0.0), ("0.5", 0.5), ("1.25", 1.25), ("-4", 0.0)],
)
def test_retry_after_delta_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert later.endswith("GMT")
    assert parse_retry_after(later, now=NOW) == pytest.approx(42.0)


def test_retry_after_obsolete_date_forms_and_the_past() -> None:
    assert parse_retry_after("Monday, 20-Apr-26 09:42:27 GMT", now=NOW) == pytest.approx(10.0)
    assert parse_retry_after("Mon Apr 20 09:42:20 2026", now=NOW) == pytest.approx(3.0)
    past = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "nan", "inf", "Foo, 99 Bar 2026"])
def test_retry_after_unreadable_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_full_jitter_bounds() -> None:
    rng = random.Random(1)
    for failures in range(1, 12):
        upper = min(2.0, 0.1 * 2 ** (failures - 1))
        delays = [backoff_delay(failures, base=0.1, cap=2.0, rng=rng) for _ in range(300)]
        assert all(0.0 <= d <= upper for d in delays)
        # Full jitter: spread over the whole range, not bunched at the top.
        assert min(delays) < upper * 0.1 and max(delays) > upper * 0.9


def test_backoff_of_huge_attempts_stays_at_the_cap() -> None:
    assert 0 <= backoff_delay(10_000, base=1.0, cap=5.0) <= 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_counts_tries() -> None:
    policy = RetryPolicy(max_tries=3, deadline=100, base=0.01, cap=0.01)
    budget = policy.budget(Clock())
    delays = []
    while True:
        budget.start_try()
        delay = budget.next_delay()
        if delay is None:
            break
        delays.append(delay)
    assert budget.tries == 3 and len(delays) == 2


def test_budget_respects_the_deadline_and_retry_after() -> None:
    clock = Clock()
    policy = RetryPolicy(max_tries=100, deadline=10.0, base=1.0, cap=1.0)
    budget = policy.budget(clock)
    budget.start_try()
    assert budget.next_delay(retry_after=3.0) == 3.0  # the server's word wins over jitter
    assert budget.next_delay(retry_after=10.0) is None  # would end past the deadline
    clock.now = 9.5
    budget.start_try()
    assert budget.next_delay(retry_after=0.4) == 0.4
    assert budget.next_delay(retry_after=0.6) is None
    clock.now = 10.0
    assert budget.next_delay(retry_after=0.0) is None
    assert budget.remaining == 0.0


def test_the_clock_starts_at_the_first_try() -> None:
    clock = Clock()
    clock.now = 500.0
    budget = RetryPolicy(deadline=5.0).budget(clock)
    assert budget.elapsed == 0.0
    clock.now = 600.0  # e.g. queued for a limiter slot: not counted
    budget.start_try()
    clock.now = 603.0
    assert budget.elapsed == 3.0 and budget.remaining == 2.0


@pytest.mark.parametrize(
    "kwargs", [{"max_tries": 0}, {"deadline": 0}, {"base": -1.0}, {"cap": -0.5}]
)
def test_policy_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
