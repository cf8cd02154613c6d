"""Interrupts as exit codes: 130 for Ctrl-C, 143 for SIGTERM, as a shell reports a
process killed by them (CI runners send SIGTERM on cancel). The stopping itself,
during an apply, is ``reconciler.engine.stopping``."""

from __future__ import annotations

import signal
from typing import Any

from reconciler.errors import UserError

EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
