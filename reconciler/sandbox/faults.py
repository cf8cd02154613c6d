"""Fault decisions and request statistics.

Every decision comes from ONE ``random.Random(seed)``, and every admitted /waves
request draws the same number of values from it whatever the config says, so a
client that sends the same requests in the same order against the same seed
meets the same faults, latencies and clone outcomes. (Concurrent requests draw
in arrival order, which the network decides.)
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.config import FAULT_KINDS, SandboxConfig

LOG_SIZE = 2000  # requests kept in the stats' log

# Paths whose POST creates a clone: ghosts and hidden successes apply to these.
CREATE_PATHS = ("/waves/v1/voice-cloning", "/waves/v1/lightning-large/add_voice")


@dataclass(frozen=True)
class Decision:
    """What happens to one admitted request."""

    delay_s: float  # latency to add before answering
    fault: str | None  # one of FAULT_KINDS, or None
    done_before_fault: bool  # a 5xx/drop fault hides a change that was made
    ghost: bool  # a create answers 500 voice_clone_timeout although it was made
    fails: bool  # a clone made by this request ends 'failed'


class FaultEngine:
    """Draws decisions from the seeded RNG."""

    def __init__(self, seed: int | None) -> None:
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def decide(self, config: SandboxConfig, method: str, path: str) -> Decision:
        rng = self.rng
        # Always six draws, in this order, so the sequence never depends on config.
        u_fault, u_kind, u_before, u_ghost, u_jitter, u_fail = (rng.random() for _ in range(6))
        delay_ms = config.latency_ms + (2.0 * u_jitter - 1.0) * config.jitter_ms
        fault = None
        if u_fault < config.fault_rate:
            kinds = config.fault_kinds or list(FAULT_KINDS)
            fault = kinds[min(int(u_kind * len(kinds)), len(kinds) - 1)]
        is_create = method == "POST" and path in CREATE_PATHS
        ghost = fault is None and is_create and u_ghost < config.ghost_rate
        return Decision(
            delay_s=max(0.0, delay_ms) / 1000.0,
            fault=fault,
            done_before_fault=u_before < 0.5,
            ghost=ghost,
            fails=u_fail < config.failure_rate,
        )


class Stats:
    """Counters the ``/_sandbox/stats`` hook reports.

    ``in_flight`` counts every /waves request of an organisation from arrival to
    answer, the ones refused with 429 included, so ``max_in_flight`` shows a
    client that keeps exceeding the limit; ``admitted`` counts only the ones let
    through (``max_admitted`` never exceeds a set ``concurrency_limit``).
    """

    def __init__(self) -> None:
        self.in_flight: Counter[str] = Counter()
        self.admitted: Counter[str] = Counter()
        self.speaking: Counter[str] = Counter()  # text-to-speech requests admitted, per org
        self.held = 0  # /waves requests waiting at the gate while the sandbox holds them
        self.reset()

    def reset(self) -> None:
        """Zero the counters; the live in-flight numbers stay what they are."""
        self.requests: Counter[str] = Counter()
        # every /waves request in arrival order ("POST /waves/v1/voice-cloning"), the last
        # LOG_SIZE: tests read the order of creates and deletes from it
        self.log: deque[str] = deque(maxlen=LOG_SIZE)
        self.responses: Counter[str] = Counter()
        self.max_in_flight: dict[str, int] = {k: v for k, v in self.in_flight.items() if v}
        self.max_admitted: dict[str, int] = {k: v for k, v in self.admitted.items() if v}
        self.rate_limited = 0
        self.unauthorized = 0
        self.faults: Counter[str] = Counter({k: 0 for k in (*FAULT_KINDS, "ghost")})
        self.clones_created = 0
        self.clones_deleted = 0

    def arrive(self, org_id: str) -> None:
        self.in_flight[org_id] += 1
        self.max_in_flight[org_id] = max(self.max_in_flight.get(org_id, 0), self.in_flight[org_id])

    def leave(self, org_id: str) -> None:
        self.in_flight[org_id] -= 1

    def admit(self, org_id: str) -> None:
        self.admitted[org_id] += 1
        self.max_admitted[org_id] = max(self.max_admitted.get(org_id, 0), self.admitted[org_id])

    def release(self, org_id: str) -> None:
        self.admitted[org_id] -= 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "log": list(self.log),
            "responses": dict(self.responses),
            "max_in_flight": dict(self.max_in_flight),
            "max_admitted": dict(self.max_admitted),
            "in_flight_now": {k: v for k, v in self.in_flight.items()},
            "held_now": self.held,
            "rate_limited": self.rate_limited,
            "unauthorized": self.unauthorized,
            "faults": dict(self.faults),
            "clones_created": self.clones_created,
            "clones_deleted": self.clones_deleted,
        }
