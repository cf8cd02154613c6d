"""The migrate use case: legacy lightning-large clones re-cloned on lightning-v3.1.

``migrate`` is a plan and apply limited to legacy replacements (and the lockfile
repairs and leftover deletes they need): each legacy clone is re-cloned from its
sample through the current endpoint, the new clone is waited for and recorded,
and only then is the old one deleted - or, with ``--keep-legacy``, kept and
recorded as ``retired`` until ``migrate --finish`` deletes it, so a team can
deploy the new voiceIds first and remove the old ones after.

The old -> new map is derived from the lockfile (each voice records the legacy
voiceId it replaced in ``migratedFrom``), not from this run's outcomes, so after a
run that was killed half-way and run again the map is still complete. JSON shape
(``--map-out FILE``, ``schemas/migration-map.schema.json``)::

    {"formatVersion": 1,
     "voices": {"narrator": {"old": "voice_a", "new": "voice_b", "oldKept": false}},
     "ids": {"voice_a": "voice_b"}}

``oldKept`` is true while the old clone is kept as retired (``--keep-legacy``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.errors import UserError
from reconciler.fsutil import atomic_write
from reconciler.lockfile import LockDocument

MAP_FORMAT_VERSION = 1


def migration_map(doc: LockDocument) -> dict[str, Any]:
    """The old -> new map of every migrated voice, from the lockfile (see the module doc)."""
    # kept: on purpose (--keep-legacy), or because no delete route could delete it yet
    kept = {vid for vid, r in doc.retired.items() if r.keep} | set(doc.awaiting)
    voices = {
        name: {
            "old": entry.migrated_from,
            "new": entry.voice_id,
            "oldKept": entry.migrated_from in kept,
        }
        for name, entry in sorted(doc.voices.items())
        if entry.migrated_from
    }
    return {
        "formatVersion": MAP_FORMAT_VERSION,
        "voices": voices,
        "ids": {v["old"]: v["new"] for v in voices.values()},
    }


def write_map(path: Path, doc: LockDocument) -> None:
    text = json.dumps(migration_map(doc), indent=2, sort_keys=True) + "\n"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise UserError(f"--map-out {path}: cannot write: {exc.strerror or exc}") from None
