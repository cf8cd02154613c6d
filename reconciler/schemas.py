"""The machine-readable documents voicectl writes, as pydantic models, and their JSON Schemas.

``render.plan_json`` / ``render.apply_json`` build their output through these
models, and ``voicectl schema --write`` generates ``schemas/*.json`` from the same
models (with the manifest's ``ManifestDocument`` and the lockfile's
``LockDocument``), so the published schemas can never drift from the output: a
test compares the committed files with freshly generated ones.

Every document carries ``formatVersion``; a change that could break a reader
bumps it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION: Final = 1
# The plan family (plan, apply, plan --all-envs, saved plans, show --format json) is at
# version 2: its errors and warnings became objects (file, line, column, path,
# message); in version 1 they were strings. The other documents are still at 1.
PLAN_FORMAT_VERSION: Final = 2
SAVED_PLAN_KIND: Final = "voicectl-saved-plan"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

ActionName = Literal[
    "move", "release", "adopt", "forget", "delete", "create", "replace", "wait", "noop"
]
FieldValue = str | list[str] | None


class _Out(BaseModel):
    """An output document: camelCase keys, no unknown keys, every field always present."""

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        json_schema_serialization_defaults_required=True,
    )


# --------------------------------------------------------------------------- problems


class ProblemOut(_Out):
    """One error or warning, with where it is as far as known (null where not)."""

    file: str | None = Field(description="The file it is in (the manifest as given), if any.")
    line: int | None = Field(description="1-based line in that file.")
    column: int | None = Field(description="1-based column in that file.")
    path: str | None = Field(description="The manifest field, e.g. voices.narrator.file.")
    message: str = Field(description="What is wrong, in words (without the position).")


# --------------------------------------------------------------------------- plan


class PlanChange(_Out):
    """One metadata field that differs: the clone's value -> the manifest's."""

    field: str = Field(description="displayName, language, description, accent or tags")
    old: FieldValue = Field(description="The clone's value on the service.")
    new: FieldValue = Field(description="The manifest's value.")


class PlanAction(_Out):
    """One thing apply would do (or, for wait/noop, leave alone)."""

    action: ActionName = Field(
        description="create, replace (new clone, then delete the old), delete, adopt / "
        "forget (lockfile-only repairs), wait (a clone still being made), noop"
    )
    name: str | None = Field(
        description="The voice's name in the manifest; null for a clone nobody declared."
    )
    voice_id: str | None = Field(
        alias="voiceId", description="The clone acted on; null for a create."
    )
    display_name: str | None = Field(alias="displayName", description="The clone's displayName.")
    reasons: list[str] = Field(description="Why, in words (empty for noop).")
    changes: list[PlanChange] = Field(description="Metadata fields that differ (replace).")
    spec: dict[str, FieldValue] | None = Field(
        description="What a create or replace makes the new clone from: file (with a short "
        "sha256), model, language, accent, tags, description (null values: not set); null "
        "for other actions."
    )


class PlanSummary(_Out):
    """How many actions of each kind; ``changes`` counts those that change anything."""

    create: int
    replace: int
    delete: int
    move: int = Field(default=0, description="moved: renames (lockfile only)")
    release: int = Field(default=0, description="removed: clones let go (lockfile only)")
    adopt: int
    forget: int
    wait: int
    noop: int
    changes: int = Field(description="create + replace + delete + move + release + adopt + forget")


class PlanDocument(_Out):
    """`voicectl plan --format json`: what apply would do."""

    model_config = ConfigDict(title="voicectl plan (plan --format json)")

    format_version: Literal[2] = Field(alias="formatVersion")
    actions: list[PlanAction]
    summary: PlanSummary
    stack: str | None = Field(
        default=None,
        description="The stack whose clones this plan may touch (a manifest without "
        "`stack` has one of its own, recorded in the lockfile).",
    )
    warnings: list[ProblemOut] = Field(description="The manifest's and the plan's warnings.")
    errors: list[ProblemOut] = Field(
        description="Why there is no plan (an invalid manifest, an unreachable server, a "
        "refused key...) or why apply refuses it (protect, mass delete). A document with "
        "errors is a failed run (exit 1)."
    )


# --------------------------------------------------------------------------- apply


class ApplyOutcome(_Out):
    """How one operation ended."""

    action: ActionName
    name: str | None
    voice_id: str | None = Field(alias="voiceId", description="The clone the plan named.")
    new_voice_id: str | None = Field(
        alias="newVoiceId", description="The clone a create or replace made."
    )
    ok: bool
    error: str | None
    elapsed_seconds: float = Field(alias="elapsedSeconds")
    retired: bool = Field(description="The old clone was kept, recorded as retired.")
    awaiting_deletion: bool = Field(
        default=False,
        alias="awaitingDeletion",
        description="Its delete (or a replacement's delete of the old clone) could not be "
        "done because no delete route works for this key; the clone is in "
        "awaitingDeletion and the lockfile.",
    )


class AwaitingDeletion(_Out):
    """A clone to delete in the dashboard: no delete route works for this key today."""

    name: str | None = Field(description="The voice it belonged to (null: none).")
    display_name: str | None = Field(alias="displayName")
    voice_id: str = Field(alias="voiceId")
    reason: Literal["orphan", "duplicate", "replaced", "migrated", "failed"] = Field(
        description="orphan: no longer declared; duplicate: an extra clone of a voice; "
        "replaced: the old clone of a replacement; migrated: a legacy clone replaced on "
        "lightning-v3.1; failed: a failed new clone"
    )


class ApplySummary(_Out):
    created: int
    replaced: int
    deleted: int
    adopted: int
    failed: int


class ApplyDocument(_Out):
    """`voicectl apply --format json`: the plan applied and how each operation ended."""

    model_config = ConfigDict(title="voicectl apply result (apply --format json)")

    format_version: Literal[2] = Field(alias="formatVersion")
    ok: bool = Field(description="Every operation succeeded.")
    plan: PlanDocument
    outcomes: list[ApplyOutcome]
    summary: ApplySummary
    notes: list[str]
    errors: list[ProblemOut] = Field(
        description="Why the run stopped or was refused before or around the operations "
        "(the plan's own refusals are in plan.errors; failed operations in outcomes)."
    )
    awaiting_deletion: list[AwaitingDeletion] = Field(
        default_factory=list,
        alias="awaitingDeletion",
        description="The hand-off: clones no delete route could delete (recorded in the "
        "lockfile; every plan shows them as deletes; the first apply that can delete "
        "them does). Not an error: ok and the exit code ignore it.",
    )
    delete_unavailable: str | None = Field(
        default=None,
        alias="deleteUnavailable",
        description="Why no delete route works for this key, when a delete was tried.",
    )


# --------------------------------------------------------------------------- validate


class ValidateDocument(_Out):
    """`voicectl validate --format json`: the manifest's problems, offline."""

    model_config = ConfigDict(title="voicectl validate (validate --format json)")

    format_version: Literal[1] = Field(alias="formatVersion")
    valid: bool
    manifest: str = Field(description="The manifest as given.")
    stack: str | None = Field(description="null when the manifest is invalid")
    voices: int | None = Field(description="How many voices it declares; null when invalid.")
    errors: list[ProblemOut]
    warnings: list[ProblemOut]


# --------------------------------------------------------------------------- doctor


class DoctorCheck(_Out):
    check: str = Field(
        description="key, list shape, delete, create MODEL, legacy routes, tts, clones"
    )
    status: Literal["ok", "warn", "fail", "info"] = Field(
        description="fail: something voicectl needs is missing (exit 1)"
    )
    result: str = Field(description="What was found.")
    means: str = Field(description="What it means for plan and apply.")


class DoctorClones(_Out):
    total: int
    legacy: int
    pro: int
    failed: int
    unmanaged: int


class DoctorDocument(_Out):
    """`voicectl doctor --format json`: which world of the API this key and endpoint are in."""

    model_config = ConfigDict(title="voicectl doctor result (doctor --format json)")

    format_version: Literal[1] = Field(alias="formatVersion")
    ok: bool = Field(description="Nothing voicectl needs is missing.")
    endpoint: str | None = Field(description="null: the run failed before any check.")
    world: Literal["seed", "current", "mixed"] | None = Field(
        description="seed: the seed page's API; current: the newest published one "
        "(old delete retired, legacy routes gone, Pro models); mixed: anything between; "
        "null: the run failed before any check"
    )
    delete_route: Literal["lightning-large", "voice-cloning"] | None = Field(
        alias="deleteRoute", description="The route deletes use for this key (null: none)."
    )
    delete_routes: dict[str, str] = Field(
        alias="deleteRoutes", description="Each route probed -> 'deletes' or why not."
    )
    create_models: dict[str, bool | None] = Field(
        alias="createModels", description="Each create model -> accepted (null: unknown)."
    )
    legacy_routes: Literal["live", "gone"] | None = Field(alias="legacyRoutes")
    clones: DoctorClones | None
    checks: list[DoctorCheck]
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why the run failed before any check (no key, an unknown environment "
        "...): then ok is false and checks is empty; [] when the checks ran.",
    )


# ------------------------------------------------------- list, check, refresh, migration map


class ListOwner(_Out):
    stack: str
    name: str
    via: str = Field(description="How it is known: tags, lockfile, retired, awaiting deletion.")


class ListClone(_Out):
    voice_id: str = Field(alias="voiceId")
    display_name: str = Field(alias="displayName")
    status: str | None
    model_ids: list[str] = Field(alias="modelIds")
    legacy: bool = Field(description="No lightning-v3.1 among its models.")
    awaiting_deletion: str | None = Field(
        alias="awaitingDeletion", description="Why it awaits deletion (lockfile), or null."
    )
    owner: ListOwner | None = Field(description="Who manages it; null: nobody (unmanaged).")
    language: str | None
    description: str | None
    accent: str | None
    tags: list[str]
    cloning_type: str | None = Field(alias="cloningType")
    created_at: str | None = Field(alias="createdAt")


class ListSummary(_Out):
    total: int
    legacy: int
    unmanaged: int
    awaiting_deletion: int = Field(alias="awaitingDeletion")


class ListDocument(_Out):
    """`voicectl list --json`: the organisation's clones, oldest first."""

    model_config = ConfigDict(title="voicectl list result (list --json)")

    format_version: Literal[1] = Field(alias="formatVersion")
    clones: list[ListClone]
    summary: ListSummary
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why the clones could not be listed (exit 1): then clones is empty; "
        "[] when they were.",
    )


class CheckProbe(_Out):
    bytes: int | None = Field(description="Bytes of the synthesised WAV (null: the probe failed).")
    seconds: float | None = Field(description="Its audio length (null: not measurable).")
    ok: bool


class CheckVoice(_Out):
    name: str
    voice_id: str = Field(alias="voiceId")
    exists: bool
    status: str | None
    model_ids: list[str] = Field(alias="modelIds")
    lightning_v31: bool = Field(alias="lightningV31")
    probe: CheckProbe | None = Field(description="null without --probe (or not probed).")
    problems: list[str]
    ok: bool


class CheckSummary(_Out):
    checked: int
    ok: int
    failed: int


class CheckDocument(_Out):
    """`voicectl check --json`: is every recorded voice usable on lightning-v3.1?"""

    model_config = ConfigDict(title="voicectl check result (check --json)")

    format_version: Literal[1] = Field(alias="formatVersion")
    ok: bool
    probe: bool = Field(description="Whether a TTS probe ran (--probe).")
    voices: list[CheckVoice]
    summary: CheckSummary
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why nothing could be checked (no lockfile, no key, an unreachable "
        "service ...): then ok is false and voices is empty; [] when the checks ran.",
    )


class RefreshChange(_Out):
    name: str
    voice_id: str = Field(alias="voiceId")
    field: str = Field(description="The lockfile field (displayName, modelIds, status...).")
    old: Any = Field(description="Its value before (as in the lockfile).")
    new: Any = Field(description="Its value now (as the service reports it).")


class RefreshMissing(_Out):
    name: str
    voice_id: str = Field(alias="voiceId")


class RefreshDocument(_Out):
    """`voicectl refresh --format json`: what changed in the lockfile, and what is missing."""

    model_config = ConfigDict(title="voicectl refresh result (refresh --format json)")

    format_version: Literal[1] = Field(alias="formatVersion")
    lockfile: str | None = Field(description="null: the run failed before choosing it.")
    written: bool = Field(description="false: nothing changed, the file is untouched.")
    serial: int | None = Field(description="null: the run failed before reading it.")
    changes: list[RefreshChange]
    missing: list[RefreshMissing] = Field(
        description="Recorded clones the service does not list; their entries are kept."
    )
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why the lockfile could not be refreshed (exit 1): then nothing was "
        "written and changes and missing are empty; [] when it was.",
    )


class MigratedVoice(_Out):
    old: str = Field(description="The legacy voiceId it replaced.")
    new: str = Field(description="The lightning-v3.1 voiceId apps must use now.")
    old_kept: bool = Field(alias="oldKept", description="The old clone still exists (kept).")


class MigrationMapDocument(_Out):
    """`voicectl migrate --map-out FILE`: the old -> new voiceId map, from the lockfile."""

    model_config = ConfigDict(title="voicectl migration map (migrate --map-out)")

    format_version: Literal[1] = Field(alias="formatVersion")
    voices: dict[str, MigratedVoice]
    ids: dict[str, str] = Field(description="Old voiceId -> new voiceId.")


# --------------------------------------------------------------------------- saved plan


class SavedOptions(_Out):
    """The plan options the plan was made with; `apply PLANFILE` plans again with them."""

    targets: list[str]
    replace: list[str]
    allow_mass_delete: bool = Field(alias="allowMassDelete")
    allow_outside_files: bool = Field(alias="allowOutsideFiles")
    allow_any_duration: bool = Field(alias="allowAnyDuration")
    list_grace: float = Field(alias="listGrace")
    now: float = Field(description="When the remote list was taken (epoch seconds).")
    new_organisation: bool = Field(default=False, alias="newOrganisation")
    destroy_first: list[str] = Field(default_factory=list, alias="destroyFirst")


class SavedFile(_Out):
    path: str = Field(description="As given on the command line (relative to where it ran).")
    sha256: str


class SavedSample(_Out):
    file: str = Field(description="Relative to the manifest's folder (as written there).")
    sha256: str


class SavedInclude(_Out):
    path: str = Field(description="An included file, relative to the manifest's folder.")
    sha256: str


class SavedLockfile(_Out):
    path: str
    exists: bool
    lineage: str | None = Field(description="null when the lockfile did not exist")
    serial: int | None
    sha256: str | None = Field(description="of the lockfile's bytes; null when it did not exist")


class SavedRemote(_Out):
    endpoint: str = Field(
        description="'sandbox' or the API base URL (never credentials); apply refuses a "
        "plan made against another endpoint."
    )
    digest: str = Field(description="sha256 of the canonical list of the clones' fields")
    clones: dict[str, str] = Field(
        description="voiceId -> short digest of the fields the plan reads, to say what changed"
    )
    organizations: list[str] | None = Field(
        default=None,
        description="The organisations the listed clones belong to (none listed: empty); "
        "apply refuses the plan when the key lists another's. Absent in older plans.",
    )


class SavedInputs(_Out):
    manifest: SavedFile
    includes: list[SavedInclude] = Field(
        default_factory=list, description="Every file the manifest's include read, in order."
    )
    environment: str | None = Field(
        default=None, description="The environment planned (--env), or null."
    )
    samples: dict[str, SavedSample] = Field(description="voice name -> its sample file")
    lockfile: SavedLockfile
    remote: SavedRemote


class SavedPlanDocument(_Out):
    """`voicectl plan --out FILE`: a plan and what it was made from. Holds no secret."""

    model_config = ConfigDict(title="voicectl saved plan (plan --out FILE)")

    kind: Literal["voicectl-saved-plan"]
    format_version: Literal[2] = Field(alias="formatVersion")
    voicectl_version: str = Field(alias="voicectlVersion")
    created_at: str = Field(alias="createdAt")
    options: SavedOptions
    inputs: SavedInputs
    plan: PlanDocument


# --------------------------------------------------------------------------- plan --all-envs


class EnvironmentPlanEntry(_Out):
    """One environment of `plan --all-envs`: its plan, or why it could not be planned."""

    environment: str = Field(description="The environment's name in the manifest.")
    lockfile: str = Field(description="Its lockfile (voices.<env>.lock.json).")
    plan: PlanDocument | None = Field(description="Its plan; null when it could not be planned.")
    error: str | None = Field(description="Why it could not be planned (unreachable, ...).")


class AllEnvironmentsPlanDocument(_Out):
    """`voicectl plan --all-envs --format json`: every environment's plan."""

    model_config = ConfigDict(title="voicectl plan --all-envs")

    format_version: Literal[2] = Field(alias="formatVersion")
    environments: list[EnvironmentPlanEntry]
    has_changes: bool = Field(alias="hasChanges", description="Any environment has changes.")
    failed: list[str] = Field(description="Environments that could not be planned.")
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why no environment was planned (an invalid manifest, a key variable "
        "not set ...): then environments is empty; [] when they were planned (an "
        "environment that failed alone says why in its own entry).",
    )


# --------------------------------------------------------------------------- generation


def _document(title: str, schema: dict[str, Any]) -> dict[str, Any]:
    schema = dict(schema)
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema.setdefault("title", title)
    return schema


def _manifest_schema() -> dict[str, Any]:
    from reconciler.manifest import ManifestDocument

    return _document("voices.yaml", ManifestDocument.model_json_schema(by_alias=True))


def _include_schema() -> dict[str, Any]:
    from reconciler.manifest.models import IncludedDocument

    return _document("voices.d/*.yaml", IncludedDocument.model_json_schema(by_alias=True))


def _lock_schema() -> dict[str, Any]:
    from reconciler.lockfile import LockDocument

    schema = LockDocument.model_json_schema(by_alias=True)
    schema["title"] = "voicectl lockfile (voices.lock.json)"
    return _document("voices.lock.json", schema)


def _output_schema(model: type[BaseModel]) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return _document(
            model.__name__, model.model_json_schema(by_alias=True, mode="serialization")
        )

    return make


# name -> (file name, generator). The names are what `voicectl schema NAME` takes.
# --------------------------------------------------------------------------- samples


class SampleClipOut(_Out):
    """One sample clip the service made for a clone, and what checking it found."""

    n: int = Field(description="1-based; the downloaded file is NAME-N.wav")
    text: str | None = Field(description="The sentence the clip reads.")
    audio_url: str | None = Field(alias="audioUrl", description="Where it is (a signed URL).")
    file: str | None = Field(description="Where it was saved; null without --download.")
    bytes: int | None = Field(description="Its size as downloaded; null without --download.")
    error: str | None = Field(description="Why the download failed; null when it did not.")
    seconds: float | None = Field(description="Decoded length; null when not measured.")
    speech_seconds: float | None = Field(
        alias="speechSeconds", description="Seconds that are not silence; null when not measured."
    )
    loudness_lufs: float | None = Field(
        alias="loudnessLufs", description="BS.1770 integrated loudness; null when not measured."
    )
    problem: str | None = Field(
        description="Why the clip suggests the clone will not speak (silent, near-empty); "
        "null when none was found."
    )


class SamplesVoice(_Out):
    name: str
    voice_id: str = Field(alias="voiceId")
    samples: list[SampleClipOut]


class SamplesDocument(_Out):
    """``voicectl samples --format json``: the recorded sample clips of each clone."""

    format_version: Literal[1] = Field(alias="formatVersion")
    voices: list[SamplesVoice]
    downloaded: bool = Field(description="Whether the clips were downloaded and checked.")
    problems: int = Field(description="Clips with a problem or a failed download.")
    note: str | None = Field(description="E.g. that the clips could not be measured.")
    errors: list[ProblemOut] = Field(
        default_factory=list,
        description="Why the run failed before any clip was listed (no lockfile, no key, "
        "an unknown environment...): then voices is empty; [] when the clips were listed.",
    )


SCHEMAS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "voices": ("voices.schema.json", _manifest_schema),
    "voices.lock": ("voices.lock.schema.json", _lock_schema),
    "plan": ("plan.schema.json", _output_schema(PlanDocument)),
    "apply": ("apply.schema.json", _output_schema(ApplyDocument)),
    "saved-plan": ("saved-plan.schema.json", _output_schema(SavedPlanDocument)),
    "samples": ("samples.schema.json", _output_schema(SamplesDocument)),
    "doctor": ("doctor.schema.json", _output_schema(DoctorDocument)),
    "validate": ("validate.schema.json", _output_schema(ValidateDocument)),
    "plan-all-envs": ("plan-all-envs.schema.json", _output_schema(AllEnvironmentsPlanDocument)),
    "voices-include": ("voices-include.schema.json", _include_schema),
    "list": ("list.schema.json", _output_schema(ListDocument)),
    "check": ("check.schema.json", _output_schema(CheckDocument)),
    "refresh": ("refresh.schema.json", _output_schema(RefreshDocument)),
    "migration-map": ("migration-map.schema.json", _output_schema(MigrationMapDocument)),
}
DEFAULT_DIR = "schemas"


def schema_of(name: str) -> dict[str, Any]:
    return SCHEMAS[name][1]()


def schema_text(name: str) -> str:
    """The canonical text of one schema: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema_of(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def differences(directory: Path) -> list[str]:
    """File names under ``directory`` that are missing or differ from the models."""
    stale = []
    for name, (file_name, _make) in SCHEMAS.items():
        path = directory / file_name
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != schema_text(name):
            stale.append(file_name)
    return stale
