"""``load_manifest``: read a voices.yaml, validate it, resolve it, report every problem.

The file is read (sources.py: positioned errors for a missing file, bad UTF-8
or bad YAML), validated as a whole by ``ManifestDocument``, its ``include``
files read (includes.py, each with its own report), then each voice of every
file is resolved on its own so that one bad voice does not hide another's
problems; checks no schema can express (repeated tags, displayName clashes,
voices an ``ignore`` entry would hide, a name declared in two files, voices
limited to undeclared environments) run on the raw data. Choosing an
environment (environments.py) filters the voices and layers its defaults.
"""

from __future__ import annotations

import fnmatch
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler import audio, gcpause, languages, yamlpos
from reconciler.audio.cache import AnalysisCache
from reconciler.errors import ManifestError
from reconciler.identity import env_name
from reconciler.localcache import HashCache
from reconciler.manifest import controls, includes
from reconciler.manifest import environments as envs
from reconciler.manifest.environments import check_voice_environments
from reconciler.manifest.files import _check_file, _Context, relative_name
from reconciler.manifest.models import (
    DEFAULT_STACK,
    EXTENSION_PREFIX,
    DefaultsDocument,
    ManifestDocument,
    VoiceDocument,
    is_name,
)
from reconciler.manifest.quality import start_quality
from reconciler.manifest.report import (
    _describe,
    _pydantic_problems,
    _Report,
    display_path,
    manifest_error,
)
from reconciler.manifest.sources import read_yaml_file
from reconciler.manifest.spec import (
    DECLARED_FIELDS,
    LoadResult,
    Manifest,
    SourceFile,
    VoiceSpec,
    declared,
)
from reconciler.refusals import DEFAULT_SAFETY, Safety
from reconciler.yamlpos import Pos, format_path


def _validate_part(model: type[BaseModel], value: Any) -> Any:
    """A part of the document as its model, or None when it has problems (already
    reported by the whole-document validation)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


@gcpause.paused()  # long-lived data by the thousand: no cycle scans while it is built
def load_manifest(
    path: Path,
    *,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
    check_files: bool = True,
    environment: str | None = None,
    check_quality_of_samples: bool = True,
    hold_placeholders: bool = False,
    defer_quality: bool = False,
) -> LoadResult:
    """Read, validate and resolve a manifest and the files it includes.

    Raises ManifestError with every problem found (sorted by file, then
    position); its ``warnings`` attribute holds the warnings found on the way.
    Files are checked only with ``check_files`` (then VoiceSpec's file_sha256,
    audio_format and duration are set), and then what they hold (quality.py)
    unless ``check_quality_of_samples`` is false. With ``environment``, the manifest is
    that environment's: its voices, its defaults, its stack (see
    environments.py); an environment the manifest does not declare raises
    UnknownEnvironment. Every voice is validated whatever the environment.
    With ``hold_placeholders`` a voice whose file is import's FILL-ME-IN
    placeholder is no error: it lands in the manifest's ``held`` (plan and
    apply leave it alone and warn). With ``defer_quality``, a manifest whose other
    checks all pass and whose samples are not all in the analysis cache is returned
    while they are still being measured (on a thread; ``finish`` is set): the
    caller may send its list meanwhile, and calls the result's ``settle()`` before
    anything else (it raises what the quality checks found).
    """
    path = Path(path)
    source = display_path(path)
    read = read_yaml_file(path, source)
    doc = read.doc
    if doc is None:
        raise manifest_error(
            source, [f"{source}:1:1: the manifest is empty; it needs at least 'version: 1'"]
        )
    report = _Report(source, doc)
    for problem in doc.problems:
        report.error(problem.path, problem.message, pos=problem.pos)
    controls.report(report, read.controls, doc)
    data = doc.data
    if not isinstance(data, dict):
        report.error(
            (),
            "the manifest must be a mapping of fields (version, stack, voices, ...), "
            f"got {_describe(data, doc.nodes.get(()))}",
        )
        raise report.fail()
    data = {k: v for k, v in data.items() if not k.startswith(EXTENSION_PREFIX)}

    try:
        document: ManifestDocument | None = ManifestDocument.model_validate(data)
    except ValidationError as exc:
        _pydantic_problems(exc, doc, report)
        document = None
    if document is not None:  # validated; each voice is read again below, one at a time
        document = document.model_copy(update={"voices": None})

    root = Path(os.path.abspath(path)).parent
    hashes = HashCache(root, hasher=audio.file_sha256) if check_files else None
    context = _Context(
        report,
        root,
        allow_outside_files,
        allow_any_duration,
        check_files,
        hashes=hashes,
        hold_placeholders=hold_placeholders,
    )
    reports = [report]
    included = []
    for included_path in includes.expand(data.get("include"), path, root, report):
        try:
            one = includes.read_included(included_path, root, source)
        except ManifestError as exc:  # unreadable or not YAML: its one line, then go on
            failed = _Report(display_path(included_path))
            for line in exc.problems:
                failed.add_line(line)
            reports.append(failed)
            continue
        included.append(one)
        reports.append(one.report)

    declared = envs.declared(data.get("environments"), report)
    raw_envs = data.get("environments")
    env_names = [str(k) for k in raw_envs] if isinstance(raw_envs, dict) else []
    defaults = _validate_part(DefaultsDocument, data.get("defaults") or {})
    raw_defaults = data.get("defaults")
    if isinstance(raw_defaults, dict):
        _check_repeats(("defaults", "tags"), raw_defaults.get("tags"), report)
    if defaults is not None:
        _language_warning(("defaults", "language"), defaults.language, report, defaults.model)
    env_defaults = _environment_defaults(data.get("environments"), defaults, report)
    if environment is not None and defaults is not None:
        envs.choose(environment, env_names, source)
        defaults = env_defaults.get(environment, defaults)

    entries: dict[str, _Entry] = {}
    files = [(context, data.get("voices"))]
    files += [(context.for_file(one.report, one.file.path.parent), one.voices) for one in included]
    for ctx, raw_voices in files:
        _check_voices(raw_voices, defaults, ctx, env_names, entries)
    if hashes is not None:
        hashes.save()  # best effort: a cache that cannot be written is just not kept
    _check_cross(entries, data, report)
    measured = check_files and check_quality_of_samples
    quality = start_quality(  # nothing to wait for when not measured
        [(e.report, e.spec, e.doc) for e in entries.values()] if measured else [],
        data,
        report,
        AnalysisCache.beside(root),
        background=defer_quality,
    )
    moved, removed = _check_identity(data, entries, report)

    if any(r.problems for r in reports) or document is None or defaults is None:
        quality.finish()  # every problem at once, the samples' too
        raise _fail(reports, report)
    voices = {
        name: entry.spec
        for name, entry in entries.items()
        if entry.spec is not None
        and (
            environment is None
            or entry.spec.environments is None
            or environment in entry.spec.environments
        )
    }
    manifest = Manifest(
        path=path,
        root=root,
        version=document.version,
        stack=envs.environment_stack(document.stack or DEFAULT_STACK, environment),
        prune=document.prune,
        ignore=tuple(document.ignore or ()),
        voices=voices,
        raw_sha256=read.sha256,
        environments=declared,
        environment=environment,
        base_stack=document.stack or DEFAULT_STACK,
        safety=(
            Safety(document.safety.max_change_fraction, document.safety.min_existing)
            if document.safety is not None
            else DEFAULT_SAFETY
        ),
        sources=(
            SourceFile(path=Path(os.path.abspath(path)), rel=path.name, sha256=read.sha256),
            *(one.file for one in included),
        ),
        stack_declared=document.stack is not None,
        moved=moved,
        removed=removed,
        held=tuple(context.held),
        elsewhere={
            name: tuple(entry.spec.environments or ())
            for name, entry in entries.items()
            if entry.spec is not None and name not in voices
        },
    )

    def settle() -> list[str]:
        quality.finish()
        yamlpos.forget()  # the document was read: its nodes are not needed any more
        if any(r.problems for r in reports):
            raise _fail(reports, report)
        return [line for r in reports for line in r.warning_lines()]

    if quality.running:  # only with defer_quality, and samples not in the cache
        return LoadResult(manifest=manifest, warnings=[], finish=settle, stop=quality.stop)
    return LoadResult(manifest=manifest, warnings=settle())


def _fail(reports: list[_Report], main: _Report) -> ManifestError:
    """One ManifestError for every file's problems: the manifest's first, then each
    included file's, each sorted by position."""
    problems = [line for r in reports for line in r.problem_lines()]
    warnings = [line for r in reports for line in r.warning_lines()]
    where = [r.source for r in reports if r.problems] or [main.source]
    return manifest_error(", ".join(where), problems, warnings)


def _environment_defaults(
    raw: Any, defaults: DefaultsDocument | None, report: _Report
) -> dict[str, DefaultsDocument]:
    """Each environment's defaults merged over the manifest's (checked for each)."""
    if not isinstance(raw, dict) or defaults is None:
        return {}
    merged = {}
    for name, value in raw.items():
        if not isinstance(value, dict):
            continue
        own_raw = value.get("defaults")
        path = ("environments", name, "defaults")
        if isinstance(own_raw, dict):
            _check_repeats((*path, "tags"), own_raw.get("tags"), report)
        own = _validate_part(DefaultsDocument, own_raw or {})
        if own is None:
            continue
        if "language" in own.model_fields_set:
            _language_warning(
                (*path, "language"), own.language, report, own.model or defaults.model
            )
        merged[name] = envs.merged_defaults(defaults, own)
    return merged


@dataclass
class _Entry:
    """A voice as declared: where (its file's report) and resolved (None: problems)."""

    report: _Report
    spec: VoiceSpec | None
    raw: Any = None  # the voice as written
    doc: VoiceDocument | None = None  # the voice validated (for its quality limits)


def _check_voices(
    raw_voices: Any,
    defaults: DefaultsDocument | None,
    ctx: _Context,
    env_names: list[str],
    entries: dict[str, _Entry],
) -> None:
    """Resolve each voice of one file into ``entries`` (None: it has problems); a
    name another file declared already is an error naming both places."""
    report = ctx.report
    if not isinstance(raw_voices, dict):
        return
    for name, raw in raw_voices.items():
        path = ("voices", name)
        if name in entries:
            first = entries[name].report
            at = first.doc.pos_of(path, key=True) if first.doc else Pos(1, 1)
            report.error(
                path,
                f"voice {name!r} is declared twice: here and in {first.source}:{at}",
                key=True,
            )
            continue
        spec, doc = _resolve_voice(name, raw, defaults, ctx, env_names)
        entries[name] = _Entry(report, spec, raw, doc)


def _resolve_voice(
    name: str, raw: Any, defaults: DefaultsDocument | None, ctx: _Context, env_names: list[str]
) -> tuple[VoiceSpec | None, VoiceDocument | None]:
    """The voice resolved (None: it has problems), and its validated document."""
    report = ctx.report
    path = ("voices", name)
    file_info = _check_file(path, raw, ctx) if isinstance(raw, dict) else None
    if isinstance(raw, dict):
        _check_repeats((*path, "tags"), raw.get("tags"), report)
        check_voice_environments(
            (*path, "environments"),
            raw.get("environments"),
            env_names,
            report,
            ctx.report.source if ctx.folder == ctx.root else "the manifest",
        )
    voice = _validate_part(VoiceDocument, raw)
    if voice is None or defaults is None or not is_name(name):
        return None, voice
    set_fields = voice.model_fields_set
    resolved_voice = declared(name, voice, defaults)
    language, model = resolved_voice.language, resolved_voice.model
    if "language" in set_fields:
        _language_warning((*path, "language"), voice.language, report, model)
    elif "model" in set_fields and model != (defaults.model or languages.DEFAULT_MODEL):
        _language_warning((*path, "model"), language, report, model)
    if language is None:
        report.warn(
            path,
            "no language set; the service strongly advises one (set it here or in defaults)",
            key=True,
        )
    if file_info is False:
        return None, voice
    resolved, info = file_info if file_info else (None, None)
    target = resolved if resolved is not None else ctx.folder / voice.file
    spec = VoiceSpec(
        **{f: getattr(resolved_voice, f) for f in DECLARED_FIELDS},
        name=name,
        file=target,
        file_rel=relative_name(ctx, voice.file, target),
        file_sha256=info.sha256 if info else None,
        audio_format=info.format if info else None,
        duration=info.duration if info else None,
        line=report.doc.pos_of(path, key=True).line if report.doc else 0,
        source=report.source,
    )
    return spec, voice


def _check_repeats(path: tuple[Any, ...], tags: Any, report: _Report) -> None:
    """A tag written twice in one list (checked on the raw list, so it is reported
    even when another tag of the list is invalid)."""
    if not isinstance(tags, list):
        return
    seen: dict[str, int] = {}
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            continue
        if tag in seen:
            report.error(
                (*path, i), f"tag {tag!r} is repeated (first at {format_path(path)}[{seen[tag]}])"
            )
        else:
            seen[tag] = i


def _language_warning(
    path: tuple[Any, ...], code: str | None, report: _Report, model: str | None = None
) -> None:
    warning = languages.language_warning(code, model or languages.DEFAULT_MODEL) if code else None
    if warning:
        report.warn(path, warning)


def _check_cross(entries: dict[str, _Entry], data: dict[str, Any], main: _Report) -> None:
    """Checks across voices (of every file): displayName clashes, voices an ignore
    entry would hide. Each is reported in the file that declares the voice."""
    seen: dict[str, str] = {}  # displayName, NFC-normalised: the same text looks the same
    raw_ignore = data.get("ignore")
    ignore = [p for p in raw_ignore if isinstance(p, str)] if isinstance(raw_ignore, list) else []
    for name, entry in entries.items():
        spec, report = entry.spec, entry.report
        if spec is None:
            continue
        path = ("voices", name)
        has_field = (*path, "displayName") in (report.doc.nodes if report.doc else {})
        where = (*path, "displayName") if has_field else path
        shown = unicodedata.normalize("NFC", spec.display_name)  # in C; as is when NFC
        if shown in seen:
            other = entries[seen[shown]].spec
            assert other is not None
            line = f"line {other.line}"
            if other.source != spec.source:
                line = f"{other.source} line {other.line}"
            form = ""
            if other.display_name != spec.display_name:  # Café and Cafe + U+0301
                form = " (written with other Unicode code points, but it looks the same)"
            report.warn(
                where,
                f"displayName {spec.display_name!r} is also the displayName of "
                f"voices.{other.name} ({line}){form}; the service allows "
                "it, but it is confusing",
                key=not has_field,
            )
        else:
            seen[shown] = name
        for i, pattern in enumerate(ignore):
            if fnmatch.fnmatchcase(spec.display_name, pattern):
                report.error(
                    where,
                    f"displayName {spec.display_name!r} matches ignore[{i}] "
                    f"{pattern!r} (in {main.source}), so voicectl would never create or "
                    "update it; rename the voice or narrow the pattern"
                    if report is not main
                    else f"displayName {spec.display_name!r} matches ignore[{i}] "
                    f"{pattern!r}, so voicectl would never create or update it; "
                    "rename the voice or narrow the pattern",
                    key=not has_field,
                )


def _check_identity(
    data: dict[str, Any], entries: dict[str, _Entry], report: _Report
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Checks of names across the files: environment variable clashes, ``moved`` and
    ``removed`` entries that contradict the voices or each other."""
    declared = [n for n in entries if isinstance(n, str)]
    by_env: dict[str, str] = {}
    for name in declared:
        var = env_name(name)
        if var in by_env:
            other = by_env[var]
            first = entries[other].report
            at = first.doc.pos_of(("voices", other), key=True) if first.doc else Pos(1, 1)
            where = f"line {at.line}" if first is entries[name].report else f"{first.source}:{at}"
            entries[name].report.error(
                ("voices", name),
                f"voices.{name} and voices.{other} ({where}) both map to the environment "
                f"variable {var} (`voicectl output --format env`); rename one of them",
                key=True,
            )
        else:
            by_env[var] = name
    moved: list[tuple[str, str]] = []
    raw_moved = data.get("moved")
    sources: dict[str, int] = {}
    targets: dict[str, int] = {}
    for i, entry in enumerate(raw_moved if isinstance(raw_moved, list) else []):
        if not isinstance(entry, dict):
            continue
        old, new = entry.get("from"), entry.get("to")
        if not (isinstance(old, str) and isinstance(new, str)):
            continue
        if not (is_name(old) and is_name(new)):
            continue
        problem = None
        if old == new:
            problem = ("from", f"moves {old!r} to itself")
        elif old in declared:
            problem = ("from", f"{old!r} is still declared in voices; a moved key must be gone")
        elif new not in declared:
            problem = ("to", f"{new!r} is not declared in voices")
        elif old in sources:
            problem = ("from", f"{old!r} is already moved by moved[{sources[old]}]")
        elif new in targets:
            problem = ("to", f"{new!r} is already the target of moved[{targets[new]}]")
        if problem:
            report.error(("moved", i, problem[0]), problem[1])
            continue
        sources[old], targets[new] = i, i
        moved.append((old, new))
    removed: list[str] = []
    raw_removed = data.get("removed")
    for i, name in enumerate(raw_removed if isinstance(raw_removed, list) else []):
        if not isinstance(name, str) or not is_name(name):
            continue
        if name in declared:
            report.error(
                ("removed", i),
                f"{name!r} is still declared in voices; remove it there to let it go",
            )
        elif name in sources:
            report.error(("removed", i), f"{name!r} is also moved by moved[{sources[name]}]")
        elif name in removed:
            report.error(("removed", i), f"{name!r} is listed twice")
        else:
            removed.append(name)
    return tuple(moved), tuple(removed)
