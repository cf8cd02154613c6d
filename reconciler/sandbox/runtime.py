"""The emulator's live state, one :class:`Sandbox` per app.

It holds the config (the startup baseline and the live one), the clone store, the
fault engine's RNG and the statistics, and knows how to change the config, reset
everything and show it all as ``GET /_sandbox/state`` does. It speaks no HTTP:
the gate and the handlers reach it as ``request.app.state.sandbox``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

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
