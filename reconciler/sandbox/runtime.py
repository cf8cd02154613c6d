"""The emulator's live state, one :class:`Sandbox` per app.

It holds the config (the startup baseline and the live one), the clone store, the
fault engine's RNG and the statistics, and knows how to change the config, reset
everything and show it all as ``GET /_sandbox/state`` does. It speaks no HTTP:
the gate and the handlers reach it as ``request.app.state.sandbox``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from reconciler.sandbox.barrier import ListBarrier
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.faults import FaultEngine, Stats
from reconciler.sandbox.state import CloneRecord, Store


class Sandbox:
    """The emulator's live state: config, clones, fault RNG and statistics."""

    def __init__(self, config: SandboxConfig | None = None, *, state_file: Path | None = None):
        self.baseline = config or SandboxConfig()
        self.config = self.baseline
        self.store = Store(state_file, id_seed=self.config.seed)
        self.faults = FaultEngine(self.config.seed)
        self.stats = Stats()
        self.list_barrier = ListBarrier()
        self._hold: asyncio.Event | None = None  # set while /waves requests are held
        self._hold_only: tuple[str | None, str | None] = (None, None)  # (method, path)

    # -- holding requests (for tests: an overlap made by an event, not a latency) --
    @property
    def holding(self) -> bool:
        return self._hold is not None

    def hold(self, on: bool, path: str | None = None, method: str | None = None) -> None:
        """Hold admitted /waves requests (only those with ``method`` / to ``path``, if
        given) at the gate (``on``), or let them all go."""
        if on:
            self._hold_only = (method.upper() if method else None, path)
            if self._hold is None:
                self._hold = asyncio.Event()
        elif self._hold is not None:
            self._hold.set()
            self._hold = None

    async def wait_if_held(self, method: str, path: str) -> None:
        """Wait here while requests are held (counted in ``stats.held``)."""
        gate = self._hold
        only_method, only_path = self._hold_only
        if gate is None or only_method not in (None, method) or only_path not in (None, path):
            return
        self.stats.held += 1
        try:
            await gate.wait()
        finally:
            self.stats.held -= 1

    def update_config(self, changes: dict[str, Any]) -> SandboxConfig:
        """Apply a partial config change (raises ``ValidationError``); a new seed reseeds."""
        new = self.config.updated(_normalise_keys(changes))
        self.config = new
        if "seed" in _normalise_keys(changes):
            self.faults.reseed(new.seed)
            self.store.reseed(new.seed)
        return new

    def reset(self, changes: dict[str, Any] | None = None) -> SandboxConfig:
        """Drop every clone and statistic; config = the startup config + ``changes``.

        The RNGs are reseeded, so a reset with a seed starts the same sequence again.
        """
        new = self.baseline.updated(_normalise_keys(changes or {}))
        self.config = new
        self.hold(False)
        self.store.clear()
        self.stats.reset()
        self.faults.reseed(new.seed)
        self.store.reseed(new.seed)
        return new

    def state_view(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "config": self.config.public(),
            "orgs": {
                org_id: {"clones": [state_entry(c, now) for c in org.clones.values()]}
                for org_id, org in self.store.orgs.items()
            },
        }


def _normalise_keys(changes: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in changes.items()}


def state_entry(clone: CloneRecord, now: float) -> dict[str, Any]:
    """A clone as ``GET /_sandbox/state`` shows it: stored fields, status, listed."""
    entry = clone.to_json()
    entry["status"] = clone.status(now)
    entry["listed"] = clone.listed(now)
    return entry
