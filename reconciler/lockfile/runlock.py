"""The exclusive run lock: one voicectl run at a time changes a lockfile.

An apply (import, refresh, migrate --finish) holds ``.voicectl/<name>.lock``
beside the lockfile for its whole run, so two runs never interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import filelock

from reconciler.errors import UserError


def lock_path_for(lockfile: Path) -> Path:
    """Where the exclusive run lock for ``lockfile`` lives."""
    return lockfile.parent / ".voicectl" / f"{lockfile.name}.lock"


class RunLock:
    """Exclusive lock held by a run for its whole length.

    ``timeout`` 0 fails at once when another run holds it; a positive value waits,
    and ``on_wait`` (if given) is called once with a one-line notice before waiting.
    """

    def __init__(
        self,
        lockfile: Path,
        *,
        timeout: float = 0.0,
        on_wait: Callable[[str], None] | None = None,
    ):
        self.lockfile = lockfile
        self.path = lock_path_for(lockfile)
        self.timeout = timeout
        self.on_wait = on_wait
        self._lock: filelock.BaseFileLock | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"{self.path.parent}: cannot create the folder for the run lock: "
                f"{exc.strerror or exc}"
            ) from None
        self._lock = filelock.FileLock(str(self.path), timeout=self.timeout)
        try:
            try:
                self._lock.acquire(timeout=0)
            except filelock.Timeout:
                if self.timeout <= 0:
                    raise
                if self.on_wait is not None:
                    self.on_wait(
                        f"{self.lockfile}: another voicectl run holds the lock; "
                        f"waiting up to {self.timeout:g}s for it..."
                    )
                self._lock.acquire()
        except filelock.Timeout:
            waited = f" after waiting {self.timeout:g}s" if self.timeout > 0 else ""
            raise UserError(
                f"{self.lockfile}: another voicectl run holds the lock ({self.path}){waited}; "
                "wait for it to finish or pass --lock-timeout SECONDS"
            ) from None
        except OSError as exc:
            reason = exc.strerror or exc
            raise UserError(f"{self.path}: cannot take the run lock: {reason}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
