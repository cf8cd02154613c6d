"""The exclusive run lock: one voicectl run at a time changes a lockfile.

An apply (import, refresh, migrate --finish) holds ``.voicectl/<name>.lock``
beside the lockfile for its whole run, so two runs never interleave.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import UserError
from reconciler.lockfile.journal import folder_in_the_way, real_lockfile, state_folder

if TYPE_CHECKING:
    import filelock


def lock_path_for(lockfile: Path) -> Path:
    """Where the exclusive run lock for ``lockfile`` lives."""
    return state_folder(lockfile) / f"{real_lockfile(lockfile).name}.lock"


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
        target = real_lockfile(self.lockfile)
        if target != Path(self.lockfile) and not target.parent.is_dir():
            raise UserError(
                f"{self.lockfile}: a link to {target}, whose folder does not exist (a "
                "mistyped link, a share not mounted?); nothing was changed"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            in_the_way = folder_in_the_way(self.path)
            if in_the_way is not None:
                raise in_the_way from None
            raise UserError(
                f"{self.path.parent}: cannot create the folder for the run lock: "
                f"{exc.strerror or exc}"
            ) from None
        import filelock  # the run lock's own: a plan only probes (held_by_another)

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


def held_by_another(lockfile: Path) -> bool:
    """Is another run holding ``lockfile``'s run lock right now? (A plan asks, to say
    that what it shows may be changing.) Never creates the lock file."""
    path = lock_path_for(lockfile)
    if not path.exists():
        return False
    held = _flock_probe(path)
    if held is not None:
        return held
    import filelock  # no flock here: ask filelock, which knows the fallbacks

    probe = filelock.FileLock(str(path), timeout=0)
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


def _flock_probe(path: Path) -> bool | None:
    """The answer from ``flock`` itself, as filelock takes the lock where flock works
    (a plan need not load filelock for it); None where flock cannot tell."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False  # as filelock's probe: a lock file we cannot open is no run's
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None  # flock unsupported on this filesystem (filelock falls back)
    finally:
        os.close(fd)  # closing releases a lock the probe won
    return False
