"""Saved plans: `voicectl plan --out FILE` writes one, `voicectl apply FILE` applies it.

A saved plan is the plan a reviewer saw plus a fingerprint of everything it was
made from. Applying it re-reads every input and refuses, saying what changed, if
any differs (Terraform refuses a stale saved plan the same way):

* the manifest's bytes (sha256), every file its ``include`` read (sha256; a
  file newly matched or no longer matched counts too), each voice's sample file
  (sha256) and the environment (``--env``);
* the lockfile: its existence, ``lineage``, ``serial`` and bytes - an apply bumps
  the serial, so a plan can be applied once;
* the endpoint (``sandbox`` or the API URL) and the remote clones the plan can
  touch: voiceId -> digest of every field the plan reads. Clones owned by another
  stack and clones without ownership tags are left out unless ``prune: all`` or
  the lockfile names them, so another team's clones changing in a shared
  organisation does not make this plan stale;
* finally the plan is computed again from those same inputs, with the saved
  options and the saved clock, and must come out identical; then exactly that
  plan is applied.

The file holds no secret: no API key, no Authorization header, and the API URL
without user info, query or fragment. It is JSON, described by
``schemas/saved-plan.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler import __version__, audio, identity, schemas
from reconciler.api.models import Clone
from reconciler.errors import UserError
from reconciler.fsutil import atomic_write, probe_write, read_regular
from reconciler.lockfile import LockDocument, Lockfile
from reconciler.lockfile.model import JsonBeyondLimits, loads_json
from reconciler.outputs import check_output
from reconciler.ownership import ours, owner_of, recorded_ids
from reconciler.plan import Plan, PlanOptions

LISTED = 5  # how many voiceIds a staleness message names before "and N more"


class StalePlan(UserError):
    """The saved plan no longer matches its inputs; nothing was changed."""

    refusal = True  # reports say "refused", not "failed"

    def __init__(self, plan_file: str, reasons: Sequence[str]):
        self.reasons = list(reasons)
        super().__init__(
            f"{plan_file} is stale: {'; '.join(self.reasons)}. Nothing was changed; "
            "run `voicectl plan --out` again and review the new plan"
        )


# --------------------------------------------------------------------------- fingerprints


def clone_digest(clone: Clone) -> str:
    """16 hex digits over the fields of a clone that the plan reads."""
    fields = {
        "voiceId": clone.voice_id,
        "displayName": clone.display_name,
        "description": clone.description,
        "accent": clone.accent,
        "language": clone.language,
        "tags": sorted(clone.tags),
        "status": clone.status,
        "models": clone.models,
        "createdAt": clone.created_at,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def relevant_clones(
    remote: Iterable[Clone], *, stack: str, prune: str, lock: LockDocument
) -> list[Clone]:
    """The clones a plan for ``stack`` can act on (see the module docstring)."""
    referenced = recorded_ids(lock)
    chosen = []
    for clone in remote:
        if prune == "all" or clone.voice_id in referenced or ours(owner_of(clone.tags), stack):
            chosen.append(clone)
    return sorted(chosen, key=lambda c: c.voice_id)


def remote_fingerprint(clones: Iterable[Clone]) -> tuple[str, dict[str, str]]:
    """(digest of the whole list, voiceId -> clone digest)."""
    per_clone = {c.voice_id: clone_digest(c) for c in sorted(clones, key=lambda c: c.voice_id)}
    canonical = json.dumps(sorted(per_clone.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), per_clone


def _sha256_file(path: Path) -> str | None:
    try:
        return audio.file_sha256(path)
    except OSError:
        return None


def _lockfile_sha(lock: Lockfile) -> str | None:
    if not lock.exists:
        return None
    try:
        return hashlib.sha256(read_regular(lock.path)).hexdigest()
    except OSError:
        return None


# --------------------------------------------------------------------------- writing


def build(
    *,
    manifest: Any,
    manifest_arg: str,
    lock: Lockfile,
    remote: Sequence[Clone],
    plan: Plan,
    options: PlanOptions,
    endpoint: str,
    allow_outside_files: bool,
    allow_any_duration: bool,
) -> schemas.SavedPlanDocument:
    """The saved-plan document for ``plan`` and the inputs it was made from."""
    from reconciler.render import plan_document

    assert options.now is not None, "plan_for sets the clock"
    digest, per_clone = remote_fingerprint(
        relevant_clones(remote, stack=manifest.stack, prune=manifest.prune, lock=lock.doc)
    )
    samples = {
        name: schemas.SavedSample(file=voice.file_rel, sha256=voice.file_sha256 or "")
        for name, voice in manifest.voices.items()
    }
    return schemas.SavedPlanDocument(
        kind=schemas.SAVED_PLAN_KIND,
        format_version=schemas.PLAN_FORMAT_VERSION,
        voicectl_version=__version__,
        created_at=datetime.fromtimestamp(options.now, tz=timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        options=schemas.SavedOptions(
            targets=sorted(options.targets),
            replace=sorted(options.replace),
            allow_mass_delete=options.allow_mass_delete,
            allow_outside_files=allow_outside_files,
            allow_any_duration=allow_any_duration,
            list_grace=options.list_grace,
            now=options.now,
            new_organisation=options.new_organisation,
            destroy_first=sorted(options.destroy_first),
        ),
        inputs=schemas.SavedInputs(
            manifest=schemas.SavedFile(path=manifest_arg, sha256=manifest.raw_sha256),
            includes=[
                schemas.SavedInclude(path=f.rel, sha256=f.sha256)
                for f in getattr(manifest, "included", ())
            ],
            environment=getattr(manifest, "environment", None),
            samples=samples,
            lockfile=schemas.SavedLockfile(
                path=str(lock.path),
                exists=lock.exists,
                lineage=lock.doc.lineage if lock.exists else None,
                serial=lock.doc.serial if lock.exists else None,
                sha256=_lockfile_sha(lock),
            ),
            remote=schemas.SavedRemote(
                endpoint=endpoint,
                digest=digest,
                clones=per_clone,
                organizations=identity.organisations_of(remote),
            ),
        ),
        plan=plan_document(plan),
    )


def to_text(doc: schemas.SavedPlanDocument) -> str:
    data = doc.model_dump(by_alias=True, mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_writable(path: Path, own_files: Mapping[str, Path]) -> None:
    """Refuse ``--out PATH`` before the plan is made (before any request) if the plan
    file could not be written there, or would replace one of the run's ``own_files``
    or a file that is not a saved plan (``outputs.check_output``); nothing is created
    (``fsutil.probe_write``)."""
    check_output("--out", path, inputs=own_files, ours=_is_saved_plan, what="a saved plan")
    if path.is_dir():
        raise UserError(f"--out {path}: is a directory")
    try:
        probe_write(path)
    except OSError as exc:
        raise UserError(f"--out {path}: cannot write the plan: {exc.strerror or exc}") from None


def _is_saved_plan(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == schemas.SAVED_PLAN_KIND


def write(path: Path, doc: schemas.SavedPlanDocument) -> None:
    """Write the plan file atomically (a crash never leaves half a plan)."""
    if path.is_dir():
        raise UserError(f"--out {path}: is a directory")
    try:
        atomic_write(path, to_text(doc))
    except OSError as exc:
        raise UserError(f"--out {path}: cannot write the plan: {exc.strerror or exc}") from exc


# --------------------------------------------------------------------------- reading


def read(path: Path) -> schemas.SavedPlanDocument:
    """Read a plan file, with a one-line error naming the file on any problem."""
    try:
        text = read_regular(path).decode("utf-8-sig")  # a BOM (Windows editors) is read past
    except FileNotFoundError:
        raise UserError(
            f"{path}: no such plan file (make one with `voicectl plan --out`)"
        ) from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a plan file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a voicectl saved plan (not UTF-8 text)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file: {exc.strerror or exc}") from exc
    try:
        data = loads_json(text)
    except JsonBeyondLimits as exc:
        raise UserError(f"{path}: not a voicectl saved plan (invalid JSON: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        hint = ""
        if path.suffix.lower() in (".yaml", ".yml"):
            hint = "; to name the manifest, use -f"
        raise UserError(
            f"{path}:{exc.lineno}:{exc.colno}: not a voicectl saved plan "
            f"(invalid JSON: {exc.msg}){hint}"
        ) from None
    if not isinstance(data, dict) or data.get("kind") != schemas.SAVED_PLAN_KIND:
        hint = ""
        if isinstance(data, dict) and "actions" in data:
            hint = " (this is `plan --format json` output; save a plan with `plan --out FILE`)"
        raise UserError(f"{path}: not a voicectl saved plan{hint}")
    version = data.get("formatVersion")
    if version != schemas.PLAN_FORMAT_VERSION:
        raise UserError(
            f"{path}: saved plan format {version!r} is not supported "
            f"(this voicectl {__version__} reads format {schemas.PLAN_FORMAT_VERSION}); "
            "make a new plan with `voicectl plan --out`"
        )
    try:
        doc = schemas.SavedPlanDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: damaged saved plan: {where}: {first['msg']}") from None
    for where, recorded in (
        ("inputs.manifest.path", doc.inputs.manifest.path),
        ("inputs.lockfile.path", doc.inputs.lockfile.path),
    ):
        if not recorded or "\0" in recorded:  # no path voicectl wrote: an edit
            raise UserError(f"{path}: damaged saved plan: {where}: not a file path")
    return doc


def plan_options(doc: schemas.SavedPlanDocument) -> PlanOptions:
    """The options the plan was made with, its clock included."""
    o = doc.options
    return PlanOptions(
        targets=frozenset(o.targets),
        replace=frozenset(o.replace),
        allow_mass_delete=o.allow_mass_delete,
        list_grace=o.list_grace,
        now=o.now,
        new_organisation=o.new_organisation,
        destroy_first=frozenset(o.destroy_first),
    )


# --------------------------------------------------------------------------- staleness


def _names(ids: Sequence[str], what: str) -> str:
    shown = ", ".join(ids[:LISTED])
    more = f" and {len(ids) - LISTED} more" if len(ids) > LISTED else ""
    return f"{shown}{more} {what}"


def endpoint_changes(doc: schemas.SavedPlanDocument, endpoint: str) -> list[str]:
    saved = doc.inputs.remote.endpoint
    if saved == endpoint:
        return []
    return [f"it was made against {saved}, this run uses {endpoint}"]


def _outside(rel: str, root: Path) -> bool:
    """Whether a recorded path leaves ``root`` (absolute, ``..``, a NUL, a link out)."""
    if not rel or "\0" in rel or os.path.isabs(rel):
        return True
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root, rel))
    return os.path.commonpath([real_root, real]) != real_root


def manifest_not_here(plan_file: str, recorded: str) -> str:
    """Why ``apply PLANFILE`` cannot find the plan's manifest from this folder."""
    return (
        f"{plan_file}: its manifest {recorded} does not exist from here ({os.getcwd()}): the "
        "plan records paths as `voicectl plan` was given them; apply it from the folder it "
        "was made in, or name the manifest with -f"
    )


def check_paths(doc: schemas.SavedPlanDocument, manifest_path: Path, plan_file: str) -> None:
    """Refuse at once a plan whose recorded paths leave the manifest's folder: the
    plan's own manifest could not have named them (unless it was made with
    --allow-outside-files), so the plan file was edited. Nothing is read from them."""
    if doc.options.allow_outside_files:
        return
    root = Path(os.path.abspath(manifest_path)).parent
    recorded: list[tuple[str, str | None, str]] = [
        ("sample", n, s.file) for n, s in sorted(doc.inputs.samples.items())
    ]
    recorded += [("included file", None, i.path) for i in doc.inputs.includes]
    for what, name, rel in recorded:
        if _outside(rel, root):
            who = f" of {name}" if name else ""
            raise UserError(
                f"{plan_file}: the {what}{who} {rel!r} is outside the manifest's folder "
                f"{root}: the plan file was edited; nothing was changed. Make a new plan "
                "with `voicectl plan --out`"
            )


def sample_edits(doc: schemas.SavedPlanDocument, manifest: Any, plan_file: str) -> None:
    """Refuse a plan whose recorded samples are not the ones its (unchanged) manifest
    names: the plan file was edited after it was made."""
    now = {name: voice.file_rel for name, voice in manifest.voices.items()}
    then = {name: sample.file for name, sample in doc.inputs.samples.items()}
    for name in sorted(set(now) | set(then)):
        if now.get(name) != then.get(name):
            raise UserError(
                f"{plan_file}: the sample recorded for {name} ({then.get(name) or 'none'}) is "
                f"not the manifest's ({now.get(name) or 'none'}): the plan file was edited; "
                "nothing was changed. Make a new plan with `voicectl plan --out`"
            )


def file_changes(doc: schemas.SavedPlanDocument, manifest_path: Path, lock: Lockfile) -> list[str]:
    """What changed on disk since the plan: manifest, sample files, lockfile.

    Checked before the manifest is loaded and before any API call; when something
    changed here the remote clones are not looked at (the manifest may not even
    be valid any more).
    """
    reasons: list[str] = []
    saved = doc.inputs
    sha = _sha256_file(manifest_path)
    same_path = os.path.abspath(saved.manifest.path) == os.path.abspath(manifest_path)
    if sha is None:
        reasons.append(f"the manifest {manifest_path} is missing")
    elif sha != saved.manifest.sha256 and not same_path:
        reasons.append(
            f"the plan was made from the manifest {saved.manifest.path}; {manifest_path} is "
            "not that file as it was"
        )
    elif sha != saved.manifest.sha256:
        reasons.append(f"the manifest {manifest_path} changed")
    root = Path(os.path.abspath(manifest_path)).parent
    for include in saved.includes:
        now = _sha256_file(root / include.path)
        if now is None:
            reasons.append(f"the included file {include.path} is missing")
        elif now != include.sha256:
            reasons.append(f"the included file {include.path} changed")
    for _name, sample in sorted(saved.samples.items(), key=lambda kv: kv[1].file):
        path = root / sample.file
        now = _sha256_file(path)
        if now is None:
            reasons.append(f"sample {sample.file} is missing")
        elif now != sample.sha256:
            reasons.append(f"sample {sample.file} changed")
    reasons = list(dict.fromkeys(reasons))  # two voices may share a sample
    was = saved.lockfile
    if was.exists and not lock.exists:
        reasons.append("the lockfile was deleted")
    elif not was.exists and lock.exists:
        reasons.append(f"the lockfile was created (serial {lock.doc.serial})")
    elif was.exists and lock.exists:
        if lock.doc.lineage != was.lineage:
            reasons.append(
                f"the lockfile was replaced (lineage {was.lineage} -> {lock.doc.lineage})"
            )
        elif lock.doc.serial != was.serial:
            reasons.append(f"the lockfile changed (serial {was.serial} -> {lock.doc.serial})")
        elif _lockfile_sha(lock) != was.sha256:
            reasons.append(f"the lockfile was edited (serial {was.serial} unchanged)")
    return reasons


def include_changes(doc: schemas.SavedPlanDocument, manifest: Any) -> list[str]:
    """Files the manifest's include globs match now but did not then (or the reverse);
    checked once the manifest is loaded (file_changes saw the files the plan read)."""
    then = [i.path for i in doc.inputs.includes]
    now = [f.rel for f in manifest.included]
    reasons = [f"{rel} is now included" for rel in now if rel not in then]
    reasons += [f"{rel} is no longer included" for rel in then if rel not in now]
    return reasons


def remote_changes(
    doc: schemas.SavedPlanDocument, remote: Sequence[Clone], *, manifest: Any, lock: Lockfile
) -> list[str]:
    """Another organisation than the plan's, or which clones the plan can touch were
    added, deleted or changed since."""
    then, now_orgs = doc.inputs.remote.organizations, identity.organisations_of(remote)
    # (a plan made where no clone was listed knows no organisation: clones other teams
    # made since in the same one must not make it stale, so nothing is compared then)
    if then and now_orgs and set(then).isdisjoint(now_orgs):
        return [
            f"the key lists the clones of organisation {', '.join(now_orgs)}; the plan was made "
            f"against organisation {', '.join(then)} (is the key another organisation's?)"
        ]
    digest, now = remote_fingerprint(
        relevant_clones(remote, stack=manifest.stack, prune=manifest.prune, lock=lock.doc)
    )
    saved = doc.inputs.remote
    if digest == saved.digest:
        return []
    added = sorted(set(now) - set(saved.clones))
    deleted = sorted(set(saved.clones) - set(now))
    changed = sorted(v for v in set(now) & set(saved.clones) if now[v] != saved.clones[v])
    parts = []
    if added:
        parts.append(_names(added, "added"))
    if deleted:
        parts.append(_names(deleted, "deleted"))
    if changed:
        parts.append(_names(changed, "changed"))
    return ["the remote clones changed: " + ", ".join(parts or ["their list differs"])]


def _key(action: schemas.PlanAction) -> str:
    who = action.name or action.display_name or "?"
    return f"{action.action} {who}" + (f" ({action.voice_id})" if action.voice_id else "")


def plan_changes(doc: schemas.SavedPlanDocument, plan: Plan) -> list[str]:
    """How the plan computed now differs from the saved one (actions and errors)."""
    from reconciler.render import plan_document

    now = plan_document(plan)
    saved = doc.plan
    if now.actions == saved.actions and now.errors == saved.errors:
        return []
    before = [_key(a) for a in saved.actions]
    after = [_key(a) for a in now.actions]
    gone = [k for k in before if k not in after]
    new = [k for k in after if k not in before]
    parts = []
    if gone:
        parts.append("no longer planned: " + ", ".join(gone[:LISTED]))
    if new:
        parts.append("now planned: " + ", ".join(new[:LISTED]))
    if not parts:
        parts.append("the actions' details or the safety checks differ")
    return ["the plan would now differ (" + "; ".join(parts) + ")"]


_SPEC_ORDER = ("file", "model", "language", "accent", "tags", "description")


def plan_of(doc: schemas.SavedPlanDocument) -> Plan:
    """The saved plan as a :class:`Plan` again, to render it (`voicectl show`)."""
    from reconciler.plan import Action, Change
    from reconciler.problems import Problem

    def line(p: schemas.ProblemOut) -> str:
        return Problem(p.message, file=p.file, line=p.line, column=p.column, path=p.path)

    actions = tuple(
        Action(
            kind=a.action,
            name=a.name,
            voice_id=a.voice_id,
            reasons=tuple(a.reasons),
            changes=tuple(Change(c.field, c.old, c.new) for c in a.changes),
            display_name=a.display_name,
            spec=tuple(
                sorted(
                    a.spec.items(),
                    key=lambda kv: (
                        _SPEC_ORDER.index(kv[0]) if kv[0] in _SPEC_ORDER else len(_SPEC_ORDER)
                    ),
                )
            )
            if a.spec
            else (),
        )
        for a in doc.plan.actions
    )
    from reconciler.refusals import Refusal

    return Plan(
        actions,
        tuple(line(w) for w in doc.plan.warnings),
        tuple(Refusal(line(e)) for e in doc.plan.errors),
    )
