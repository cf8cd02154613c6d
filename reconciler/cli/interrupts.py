"""Ctrl-C and SIGTERM: stop cleanly, say what was done and what was not.

During an apply's operations the first signal stops new operations from
starting (queued creates are not sent, deletes not begun) while the ones in
flight finish and are recorded; a second signal stops at once (the journal
still holds every step that completed). Then the run prints what was done, what
was not and what to run next, and exits 130 (SIGINT) or 143 (SIGTERM), as a
shell does for a process killed by them. CI runners send SIGTERM on cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

from reconciler.errors import UserError

EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class Interrupted(UserError):
    """The run was interrupted; ``exit_code`` is 130 (Ctrl-C) or 143 (SIGTERM)."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.exit_code = EXIT_CODES.get(signum, 130)
        self.signum = signum


class Terminated(BaseException):
    """SIGTERM outside an apply's operations (raised by the handler ``main`` installs)."""


def raise_terminated(_signum: int, _frame: Any) -> None:
    raise Terminated()


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
                "the ones in flight to finish and be recorded (press Ctrl-C again to stop now)."
            )
            return
        if not self.hard and self._task is not None:
            self.hard = True
            self.say("Second interrupt: stopping now.")
            self._task.cancel()

    @property
    def name(self) -> str:
        return NAMES.get(self.signum or signal.SIGINT, "Ctrl-C")
