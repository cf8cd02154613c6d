"""voices.lock.json and its ONE owner.

* :mod:`.model`   the document (pydantic models), its canonical text, its parser
* :mod:`.store`   :class:`Lockfile`: the only code that changes a document; journals
                  every change (:mod:`.journal`) and folds it into the file at the end
* :mod:`.entries` the one converter from a clone to a lockfile entry
* :mod:`.runlock` the exclusive lock a run holds
"""

from reconciler.lockfile.entries import entry_for
from reconciler.lockfile.journal import LockfileWriteError, journal_path_for
from reconciler.lockfile.model import (
    AWAITING_REASONS,
    LOCK_VERSION,
    AwaitingEntry,
    LockDocument,
    LockEntry,
    LockSample,
    PendingEntry,
    ReleasedEntry,
    ReplaceIntent,
    RetiredEntry,
    new_document,
    parse,
    to_text,
)
from reconciler.lockfile.runlock import RunLock, lock_path_for
from reconciler.lockfile.store import Lockfile

__all__ = [
    "AWAITING_REASONS",
    "LOCK_VERSION",
    "AwaitingEntry",
    "LockDocument",
    "LockEntry",
    "LockSample",
    "Lockfile",
    "LockfileWriteError",
    "PendingEntry",
    "ReleasedEntry",
    "ReplaceIntent",
    "RetiredEntry",
    "RunLock",
    "entry_for",
    "journal_path_for",
    "lock_path_for",
    "new_document",
    "parse",
    "to_text",
]
