"""``load_manifest``: read a voices.yaml, validate it, resolve it, report every problem.

The file is read and decoded here (with positioned errors for a missing file,
bad UTF-8 or bad YAML), validated as a whole by ``ManifestDocument``, then each
voice is resolved on its own so that one bad voice does not hide another's
problems; checks no schema can express (repeated tags, displayName clashes,
voices an ``ignore`` entry would hide) run on the raw data.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler import languages
from reconciler.identity import env_name
from reconciler.manifest.files import _check_file, _Context
from reconciler.manifest.models import (
    _NAME_RE,
    DEFAULT_STACK,
    EXTENSION_PREFIX,
    DefaultsDocument,
    ManifestDocument,
    VoiceDocument,
)
from reconciler.manifest.report import (
    _describe,
    _pydantic_problems,
    _Report,
    display_path,
    manifest_error,
)
from reconciler.manifest.spec import LoadResult, Manifest, VoiceSpec
from reconciler.yamlpos import YamlSyntaxError, format_path, load_yaml


def _validate_part(model: type[BaseModel], value: Any) -> Any:
    """A part of the document as its model, or None when it has problems (already
    reported by the whole-document validation)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _read(path: Path, source: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise manifest_error(source, [f"{source}: the manifest does not exist"]) from None
    except IsADirectoryError:
        raise manifest_error(source, [f"{source}: is a directory, not a manifest file"]) from None
    except PermissionError:
        raise manifest_error(
            source, [f"{source}: cannot read the manifest: permission denied"]
        ) from None
    except OSError as exc:
        raise manifest_error(
            source, [f"{source}: cannot read the manifest: {exc.strerror}"]
        ) from None


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = raw[exc.start]
        raise manifest_error(
            source,
            [f"{source}:{line}:{col}: the manifest is not UTF-8 text (byte 0x{bad:02x})"],
        ) from None


def load_manifest(
    path: Path,
    *,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
    check_files: bool = True,
    hold_placeholders: bool = False,
) -> LoadResult:
    """Read, validate and resolve a manifest.

    Raises ManifestError with every problem found (sorted by position); its
    ``warnings`` attribute holds the warnings found on the way. Files are
    checked only with ``check_files`` (then VoiceSpec's file_sha256,
    audio_format and duration are set). With ``hold_placeholders`` a voice whose
    file is import's FILL-ME-IN placeholder is a warning and lands in ``held``.
    """
    path = Path(path)
    source = display_path(path)
    raw = _read(path, source)
    text = _decode(raw, source)
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as exc:
        raise manifest_error(source, [f"{source}:{exc.pos}: {exc.message}"]) from None
    if doc is None:
        raise manifest_error(
            source, [f"{source}:1:1: the manifest is empty; it needs at least 'version: 1'"]
        )
    report = _Report(source, doc)
    for problem in doc.problems:
        report.error(problem.path, problem.message, pos=problem.pos)
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

    root = Path(os.path.abspath(path)).parent
    context = _Context(
        report, root, allow_outside_files, allow_any_duration, check_files, hold_placeholders
    )
    defaults = _validate_part(DefaultsDocument, data.get("defaults") or {})
    raw_defaults = data.get("defaults")
    if isinstance(raw_defaults, dict):
        _check_repeats(("defaults", "tags"), raw_defaults.get("tags"), report)
    voices = _check_voices(data.get("voices"), defaults, context)
    _check_cross(voices, data, context)
    moved, removed = _check_identity(data, context)

    if report.problems or document is None or defaults is None:
        raise report.fail()
    manifest = Manifest(
        path=path,
        root=root,
        version=document.version,
        stack=document.stack or DEFAULT_STACK,
        prune=document.prune,
        ignore=tuple(document.ignore or ()),
        voices={spec.name: spec for spec in voices.values() if spec is not None},
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        stack_declared=document.stack is not None,
        moved=moved,
        removed=removed,
        held=tuple(context.held),
    )
    return LoadResult(manifest=manifest, warnings=report.warning_lines())


def _check_voices(
    raw_voices: Any, defaults: DefaultsDocument | None, ctx: _Context
) -> dict[str, VoiceSpec | None]:
    """Resolve each voice; a voice with problems maps to None."""
    report = ctx.report
    if defaults is not None:
        _language_warning(("defaults", "language"), defaults.language, report)
    if not isinstance(raw_voices, dict):
        return {}
    specs: dict[str, VoiceSpec | None] = {}
    for name, raw in raw_voices.items():
        path = ("voices", name)
        file_info = _check_file(path, raw, ctx) if isinstance(raw, dict) else None
        if isinstance(raw, dict):
            _check_repeats((*path, "tags"), raw.get("tags"), report)
        voice = _validate_part(VoiceDocument, raw)
        if voice is None or defaults is None or not _NAME_RE.match(name):
            specs[name] = None
            continue
        set_fields = voice.model_fields_set
        language = voice.language if "language" in set_fields else defaults.language
        if "language" in set_fields:
            _language_warning((*path, "language"), voice.language, report)
        if language is None:
            report.warn(
                path,
                "no language set; the service strongly advises one (set it here or in defaults)",
                key=True,
            )
        if file_info is False:
            specs[name] = None
            continue
        resolved, info = file_info if file_info else (None, None)
        specs[name] = VoiceSpec(
            name=name,
            file=resolved if resolved is not None else ctx.root / voice.file,
            file_rel=voice.file,
            display_name=voice.display_name if voice.display_name is not None else name,
            language=language,
            description=(
                voice.description if "description" in set_fields else defaults.description
            ),
            accent=voice.accent if "accent" in set_fields else defaults.accent,
            tags=_merge_tags(defaults.tags or [], voice.tags or []),
            protect=voice.protect,
            file_sha256=info.sha256 if info else None,
            audio_format=info.format if info else None,
            duration=info.duration if info else None,
            line=report.doc.pos_of(path, key=True).line if report.doc else 0,
        )
    return specs


def _merge_tags(defaults: list[str], own: list[str]) -> tuple[str, ...]:
    """The union of the defaults' tags and the voice's, defaults first, no repeats."""
    return tuple(dict.fromkeys([*defaults, *own]))


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


def _language_warning(path: tuple[Any, ...], code: str | None, report: _Report) -> None:
    warning = languages.language_warning(code) if code else None
    if warning:
        report.warn(path, warning)


def _check_cross(voices: dict[str, VoiceSpec | None], data: dict[str, Any], ctx: _Context) -> None:
    """Checks across voices: displayName clashes, voices an ignore entry would hide."""
    report = ctx.report
    seen: dict[str, str] = {}
    raw_ignore = data.get("ignore")
    ignore = [p for p in raw_ignore if isinstance(p, str)] if isinstance(raw_ignore, list) else []
    for name, spec in voices.items():
        if spec is None:
            continue
        path = ("voices", name)
        has_field = (*path, "displayName") in (report.doc.nodes if report.doc else {})
        where = (*path, "displayName") if has_field else path
        if spec.display_name in seen:
            other = seen[spec.display_name]
            report.warn(
                where,
                f"displayName {spec.display_name!r} is also the displayName of "
                f"voices.{other} (line {voices[other].line}); the service allows "
                "it, but it is confusing",
                key=not has_field,
            )
        else:
            seen[spec.display_name] = name
        for i, pattern in enumerate(ignore):
            if fnmatch.fnmatchcase(spec.display_name, pattern):
                report.error(
                    where,
                    f"displayName {spec.display_name!r} matches ignore[{i}] "
                    f"{pattern!r}, so voicectl would never create or update it; "
                    "rename the voice or narrow the pattern",
                    key=not has_field,
                )


def _check_identity(
    data: dict[str, Any], ctx: _Context
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Checks of names across the file: environment variable clashes, ``moved`` and
    ``removed`` entries that contradict the voices or each other."""
    report = ctx.report
    raw_voices = data.get("voices")
    declared = [n for n in raw_voices if isinstance(n, str)] if isinstance(raw_voices, dict) else []
    by_env: dict[str, str] = {}
    for name in declared:
        var = env_name(name)
        if var in by_env:
            other = by_env[var]
            line = report.doc.pos_of(("voices", other), key=True).line if report.doc else 0
            report.error(
                ("voices", name),
                f"voices.{name} and voices.{other} (line {line}) both map to the environment "
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
        if not (_NAME_RE.match(old) and _NAME_RE.match(new)):
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
        if not isinstance(name, str) or not _NAME_RE.match(name):
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
