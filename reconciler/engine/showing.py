"""The show use case: a saved plan read and checked as `apply PLANFILE` checks it, offline.

`voicectl show PLANFILE` must never render a plan that `apply` would refuse as
edited: it runs the same checks (``savedplan.check_paths``: a recorded path that
leaves the manifest's folder; ``savedplan.sample_edits``: a recorded sample that
is not the one the unchanged manifest names) and raises the same one-line
error. What `apply` would refuse as stale (a changed manifest, sample or
lockfile) is returned as reasons, so the plan is still shown, with a warning.
No API call is made and no key is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler import savedplan
from reconciler.engine import environments, workflow
from reconciler.lockfile import Lockfile
from reconciler.schemas import SavedPlanDocument


@dataclass
class ShownPlan:
    doc: SavedPlanDocument
    stale: list[str] = field(default_factory=list)  # why `apply` would refuse it as stale


def read_checked(plan_file: str) -> ShownPlan:
    """Read PLANFILE; refuse it if it was edited; say what makes it stale, if anything."""
    doc = savedplan.read(Path(plan_file))
    manifest_path = Path(doc.inputs.manifest.path)
    savedplan.check_paths(doc, manifest_path, plan_file)
    lock = Lockfile.load(Path(doc.inputs.lockfile.path))
    stale = savedplan.file_changes(doc, manifest_path, lock)
    if stale:  # the manifest (or a sample) is not the plan's: the edit check has no base
        return ShownPlan(doc, stale)
    target = environments.select(manifest_path, doc.inputs.environment)
    loaded = workflow.load(
        manifest_path,
        lockfile=doc.inputs.lockfile.path,
        allow_outside_files=doc.options.allow_outside_files,
        allow_any_duration=doc.options.allow_any_duration,
        target=target,
    )
    savedplan.sample_edits(doc, loaded.manifest, plan_file)
    return ShownPlan(doc, savedplan.include_changes(doc, loaded.manifest))
