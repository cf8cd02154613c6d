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
from reconciler.audio.cache import AnalysisCache
from reconciler.manifest.files import _check_file, _Context
from reconciler.manifest.models import (
    _NAME_RE,
    EXTENSION_PREFIX,
    DefaultsDocument,
    ManifestDocument,
    VoiceDocument,
)
from reconciler.manifest.quality import check_quality
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
    check_quality_of_samples: bool = True,
) -> LoadResult:
    """Read, validate and resolve a manifest.

    Raises ManifestError with every problem found (sorted by position); its
    ``warnings`` attribute holds the warnings found on the way. Files are
    checked only with ``check_files`` (then VoiceSpec's file_sha256,
    audio_format and duration are set), and then their content too (quality.py)
    unless ``check_quality_of_samples`` is false.
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
    context = _Context(report, root, allow_outside_files, allow_any_duration, check_files)
    defaults = _validate_part(DefaultsDocument, data.get("defaults") or {})
    raw_defaults = data.get("defaults")
    if isinstance(raw_defaults, dict):
        _check_repeats(("defaults", "tags"), raw_defaults.get("tags"), report)
    voices = _check_voices(data.get("voices"), defaults, context)
    _check_cross(voices, data, context)
    if check_files and check_quality_of_samples:
        check_quality(voices, data, report, AnalysisCache.beside(root))

    if report.problems or document is None or defaults is None:
        raise report.fail()
    manifest = Manifest(
        path=path,
        root=root,
        version=document.version,
        stack=document.stack,
        prune=document.prune,
        ignore=tuple(document.ignore or ()),
        voices={spec.name: spec for spec in voices.values() if spec is not None},
        raw_sha256=hashlib.sha256(raw).hexdigest(),
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
