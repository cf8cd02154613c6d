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

``migrate --finish`` is the same planner and applier as every other run
(``PlanOptions.finish_retired``): the plan holds the deletes of the kept old clones whose
replacement is completed on lightning-v3.1, and refuses (``ReplacementNotReady``)
all of them while one replacement is missing, unfinished or not current.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.engine import environments, workflow
from reconciler.errors import UserError
from reconciler.fsutil import atomic_write, probe_write
from reconciler.lockfile import LockDocument, Lockfile
from reconciler.outputs import check_output
from reconciler.schemas import MigrationMapDocument

if TYPE_CHECKING:
    from reconciler.engine.applying import ApplyRun

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
    out = {
        "formatVersion": MAP_FORMAT_VERSION,
        "voices": voices,
        "ids": {v["old"]: v["new"] for v in voices.values()},
    }
    return MigrationMapDocument.model_validate(out).model_dump(by_alias=True, mode="json")


def _is_map(data: Any) -> bool:
    return isinstance(data, dict) and set(data) == {"formatVersion", "voices", "ids"}


def check_map_writable(path: Path, own_files: Mapping[str, Path]) -> None:
    """Refuse ``--map-out PATH`` before any clone is made if the map could not be
    written there (a migration whose map is lost leaves apps on the old voiceIds), or
    would replace one of the run's ``own_files`` or a file that is not a map."""
    check_output("--map-out", path, inputs=own_files, ours=_is_map, what="a migration map")
    if path.is_dir():
        raise UserError(f"--map-out {path}: is a directory")
    try:
        probe_write(path)
    except OSError as exc:
        raise UserError(f"--map-out {path}: cannot write: {exc.strerror or exc}") from None


def write_map(path: Path, doc: LockDocument) -> None:
    text = json.dumps(migration_map(doc), indent=2, sort_keys=True) + "\n"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise UserError(f"--map-out {path}: cannot write: {exc.strerror or exc}") from None


FINISH_HINT = "nothing was deleted (fix these, or --target the other voices)"


def check_finishable(path: Path, lockfile: str | None, target: environments.Target) -> None:
    lock_path = workflow.lockfile_path(path, lockfile, target)
    if not lock_path.exists():
        raise UserError(f"{lock_path}: no lockfile; there is nothing to finish")


@dataclass
class MigrateResult:
    """A migrate (or finish) run and the lockfile it left: the map, what is kept."""

    run: ApplyRun
    doc: LockDocument

    @property
    def map(self) -> dict[str, Any]:
        return migration_map(self.doc)

    @property
    def kept(self) -> int:
        """Old clones kept as retired on purpose (--keep-legacy), for --finish to delete
        (one whose delete --finish approved but no route could do is awaiting instead)."""
        awaiting = self.doc.awaiting
        return sum(1 for vid, r in self.doc.retired.items() if r.keep and vid not in awaiting)

    @property
    def awaiting(self) -> int:
        """Old clones of migrated voices that no delete route could delete yet."""
        doc = self.doc
        old = {vid for vid, a in doc.awaiting.items() if a.reason == "migrated"}
        old |= {vid for vid, r in doc.retired.items() if r.keep and vid in doc.awaiting}
        return len(old)

    @property
    def waiting(self) -> list[str]:
        """Voices whose clone is still being made (the migration is not finished)."""
        return [a.name or "" for a in self.run.plan.of_kind("wait")]

    @property
    def deleted(self) -> int:
        return self.run.result.count("delete")


def result_of(run: ApplyRun, lock_path: Path) -> MigrateResult:
    """Read the lockfile again after the run (the map comes from it, not from the run)."""
    return MigrateResult(run=run, doc=Lockfile.load(lock_path).doc)
