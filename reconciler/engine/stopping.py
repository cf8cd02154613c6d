"""Ctrl-C and SIGTERM during an apply's operations: stop starting, let in-flight finish.

The first signal sets ``applier.stopping``: queued creates are not sent, deletes
not begun, while the operations in flight finish and are recorded; a second
signal cancels the run at once (the journal still holds every completed step).
The caller then says what was done and not done (``reconciler.cli.apply``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class GracefulStop:
    """Signal handlers on the running loop for the length of an apply's operations."""

    def __init__(self, applier: Any, say: Callable[[str], None]):
        self.applier = applier
        self.say = say
        self.signum: int | None = None
        self.hard = False
        self._task: asyncio.Future | None = None
        self._installed: list[int] = []

    def install(self, task: asyncio.Future) -> None:
        self._task = task
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self._on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                continue
            self._installed.append(signum)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        self._installed = []

    def _on_signal(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            self.applier.stopping = NAMES[signum]
            self.say(
                f"Interrupt ({NAMES[signum]}) received: no new operation starts; waiting for "
                "the ones in flight to finish and be recorded (a second interrupt, Ctrl-C or "
                "SIGTERM, stops now)."
            )
            return
        if not self.hard and self._task is not None:
            self.hard = True
            self.say("Second interrupt: stopping now.")
            self._task.cancel()

    @property
    def name(self) -> str:
        return NAMES.get(self.signum or signal.SIGINT, "Ctrl-C")
