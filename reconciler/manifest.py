"""voices.yaml → Manifest: every problem at once, each as ``file:line:col: path: message``.

Two layers:

* the document models (pydantic, ``extra="forbid"``, field names as written in
  YAML) are the source of truth for the format and for
  ``schemas/voices.schema.json`` (``ManifestDocument.model_json_schema()``);
* ``load_manifest`` turns a file into the resolved, defaults-applied
  ``Manifest`` of frozen ``VoiceSpec``\\ s the rest of the program uses, after
  checking what a schema cannot: duplicate keys, files (inside the manifest's
  folder, real audio, ≤ 5 MB, 5–15 s), repeated tags, displayName clashes.

Messages name the manifest as the user gave it: a relative path stays as
written (``voices.yaml``, ``conf/voices.yaml``), an absolute one inside the
current directory is shown relative to it, any other absolute path is shown in
full. Positions are 1-based and point at the offending value, or at the key for
an unknown or duplicate field, or at the enclosing key for a missing field.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from reconciler import audio, languages
from reconciler.errors import ManifestError
from reconciler.ownership import PREFIX as RESERVED_TAG_PREFIX
from reconciler.yamlpos import (
    INVALID,
    NodeInfo,
    Pos,
    YamlDocument,
    YamlSyntaxError,
    format_path,
    load_yaml,
)

MANIFEST_VERSION = 1
DEFAULT_STACK = "default"
PRUNE_MODES = ("managed", "all", "none")
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
TAG_PATTERN = r"^(?!voicectl-)[^,\s](?:[^,]*[^,\s])?$"
DISPLAY_NAME_MAX = 500
EXTENSION_PREFIX = "x-"  # top-level keys for YAML anchors, ignored
# What `voicectl import` writes as `file:` when it found no sample for a clone.
FILE_PLACEHOLDER = "FILL-ME-IN"

_NAME_RE = re.compile(NAME_PATTERN)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# --------------------------------------------------------------------------- field types


def _err(template: str, **values: Any) -> PydanticCustomError:
    """A validation error whose message is ``template.format(**values)``.

    The finished text goes through pydantic as one placeholder, so braces in a
    user's value are never taken for placeholders.
    """
    return PydanticCustomError("voicectl", "{message}", {"message": template.format(**values)})


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise _err(
            "{value!r} is not a valid name: use 1-63 characters from a-z 0-9 . _ -, "
            "starting with a letter or digit",
            value=value,
        )
    return value


def _check_tag(value: str) -> str:
    if value == "":
        raise _err("a tag may not be empty")
    if "," in value:
        raise _err(
            "tag {value!r} contains a comma (the service splits tags on commas)", value=value
        )
    if value != value.strip():
        raise _err("tag {value!r} starts or ends with spaces (the service trims them)", value=value)
    if value.startswith(RESERVED_TAG_PREFIX):
        raise _err(
            "tag {value!r} starts with {prefix!r}, which voicectl reserves for its ownership tags",
            value=value,
            prefix=RESERVED_TAG_PREFIX,
        )
    return value


def _check_language(value: str) -> str:
    if not languages.is_well_formed(value):
        raise _err(
            "{value!r} is not a language code: use a lowercase ISO 639 code "
            "such as 'en' or 'hi' (optionally with subtags, 'pt-BR'), 'auto' or 'multi'",
            value=value,
        )
    return value


def _check_display_name(value: str) -> str:
    if not 1 <= len(value) <= DISPLAY_NAME_MAX:
        raise _err(
            "a displayName must be 1-{max} characters, this one has {n}",
            max=DISPLAY_NAME_MAX,
            n=len(value),
        )
    if _CONTROL_RE.search(value):
        raise _err("a displayName must be one line, without control characters")
    return value


def _check_nonempty(value: str) -> str:
    if not value.strip():
        raise _err("may not be empty (leave the field out instead)")
    return value


def _exact_int(value: Any) -> Any:
    # Literal[1] alone would take true and 1.0 (they equal 1).
    if type(value) is not int:
        raise PydanticCustomError("version_type", "not the number 1")
    return value


Name = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN}),
]
Tag = Annotated[
    str,
    AfterValidator(_check_tag),
    WithJsonSchema({"type": "string", "pattern": TAG_PATTERN, "minLength": 1}),
]
Language = Annotated[
    str,
    AfterValidator(_check_language),
    WithJsonSchema({"type": "string", "pattern": languages.LANGUAGE_PATTERN}),
]
DisplayName = Annotated[
    str,
    AfterValidator(_check_display_name),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": DISPLAY_NAME_MAX}),
]
NonEmpty = Annotated[
    str, AfterValidator(_check_nonempty), WithJsonSchema({"type": "string", "minLength": 1})
]


# --------------------------------------------------------------------------- document models


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DefaultsDocument(_Document):
    """Values every voice gets unless it sets its own."""

    language: Language | None = Field(
        default=None, description="Default language code of each voice's sample (e.g. en, hi)."
    )
    accent: NonEmpty | None = Field(
        default=None, description="Default accent (free text, e.g. general, indian)."
    )
    description: str | None = Field(default=None, description="Default description.")
    tags: list[Tag] | None = Field(
        default=None,
        description="Tags every voice gets; a voice's own tags are added after these "
        "(union, in order, without repeats).",
    )


class VoiceDocument(_Document):
    """One voice clone. Its key in ``voices`` is its stable name."""

    file: NonEmpty = Field(
        description="The sample audio (wav, mp3, mp4 or webm; at most 5 MB; 5-15 s of "
        "speech), relative to the manifest's folder and inside it."
    )
    display_name: DisplayName | None = Field(
        default=None,
        alias="displayName",
        description="The clone's name on the service (1-500 characters). Default: the key.",
    )
    language: Language | None = Field(
        default=None,
        description="Language code of the sample (en, hi, multi, ...). Default: "
        "defaults.language; null means none even when a default is set.",
    )
    description: str | None = Field(
        default=None, description="Free text. Default: defaults.description."
    )
    accent: NonEmpty | None = Field(
        default=None, description="Accent (e.g. general, indian). Default: defaults.accent."
    )
    tags: list[Tag] | None = Field(
        default=None,
        description="Tags, added after defaults.tags. No commas, no surrounding spaces, "
        "no 'voicectl-' prefix (reserved for ownership tags).",
    )
    protect: bool = Field(
        default=False, description="Never delete or replace this clone (default false)."
    )


class ManifestDocument(_Document):
    """voices.yaml: which voice clones should exist, for one stack."""

    model_config = ConfigDict(
        title="voicectl manifest (voices.yaml)",
        json_schema_extra=lambda schema: _schema_extra(schema),
    )

    version: Annotated[Literal[1], BeforeValidator(_exact_int)] = Field(
        description="The manifest format version; must be 1."
    )
    stack: Name = Field(
        default=DEFAULT_STACK,
        description="Whose clones these are: voicectl tags every clone it makes with it, "
        "and prunes only clones of this stack.",
    )
    prune: Literal["managed", "all", "none"] = Field(
        default="managed",
        description="What to delete: clones of this stack not in the manifest (managed), "
        "every clone not in the manifest (all), or nothing (none).",
    )
    ignore: list[NonEmpty] | None = Field(
        default=None,
        description="displayName globs (fnmatch, case-sensitive) or voiceIds of clones "
        "voicectl never touches.",
    )
    defaults: DefaultsDocument | None = Field(
        default=None, description="Defaults for language, accent, description and tags."
    )
    voices: dict[Name, VoiceDocument] | None = Field(
        default=None,
        description="The voices, by stable name. Empty or missing means none: with prune, "
        "every clone this stack owns is deleted.",
    )


def _schema_extra(schema: dict[str, Any]) -> None:
    """What pydantic cannot say itself: ``x-`` keys are allowed at the top (YAML
    anchors live there), and voice keys must be names (``propertyNames``)."""
    schema["patternProperties"] = {"^x-": {}}
    for option in schema["properties"]["voices"].get("anyOf", []):
        if option.get("type") == "object":
            (voice,) = option.pop("patternProperties").values()
            option["propertyNames"] = {"pattern": NAME_PATTERN}
            option["additionalProperties"] = voice


# The document model at each depth of a path, for did-you-mean on unknown fields.
def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    if path == ():
        return ManifestDocument
    if path == ("defaults",):
        return DefaultsDocument
    if len(path) == 2 and path[0] == "voices":
        return VoiceDocument
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


# --------------------------------------------------------------------------- resolved objects


@dataclass(frozen=True)
class VoiceSpec:
    """One voice with its defaults applied and its file checked."""

    name: str
    file: Path  # absolute
    file_rel: str  # as written in the manifest
    display_name: str
    language: str | None
    description: str | None
    accent: str | None
    tags: tuple[str, ...]
    protect: bool
    file_sha256: str | None  # None when check_files=False
    audio_format: str | None  # 'wav' | 'mp3' | 'mp4' | 'webm'; None when check_files=False
    duration: float | None  # seconds; None when check_files=False
    line: int  # line of the voice's key, 1-based

    @property
    def mime_type(self) -> str | None:
        """The MIME type to upload the sample with."""
        return audio.MIME_TYPES.get(self.audio_format or "")


@dataclass(frozen=True)
class Manifest:
    path: Path
    root: Path  # the manifest's folder (absolute); files resolve from here
    version: int
    stack: str
    prune: str
    ignore: tuple[str, ...]
    voices: dict[str, VoiceSpec]  # in file order
    raw_sha256: str  # of the manifest's bytes

    def is_ignored(self, display_name: str | None, voice_id: str | None = None) -> bool:
        """True when a clone matches an ``ignore`` entry (voiceId, or displayName glob)."""
        for pattern in self.ignore:
            if voice_id is not None and pattern == voice_id:
                return True
            if display_name is not None and fnmatch.fnmatchcase(display_name, pattern):
                return True
        return False


@dataclass
class LoadResult:
    manifest: Manifest
    warnings: list[str]


def display_path(path: Path) -> str:
    """How messages name a file the user gave (see the module docstring)."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the loader


class _Report:
    """Problems and warnings, each a ``file:line:col: path: message`` line."""

    def __init__(self, source: str, doc: YamlDocument | None = None):
        self.source = source
        self.doc = doc
        self.problems: list[tuple[Pos, int, str]] = []
        self.warnings: list[tuple[Pos, int, str]] = []

    def _line(self, pos: Pos, path: tuple[Any, ...], message: str) -> str:
        where = f"{format_path(path)}: " if path else ""
        return f"{self.source}:{pos.line}:{pos.col}: {where}{message}"

    def _pos(self, path: tuple[Any, ...], pos: Pos | None, key: bool) -> Pos:
        if pos is not None:
            return pos
        return self.doc.pos_of(path, key=key) if self.doc else Pos(1, 1)

    def error(
        self, path: tuple[Any, ...], message: str, *, pos: Pos | None = None, key: bool = False
    ) -> None:
        at = self._pos(path, pos, key)
        self.problems.append((at, len(self.problems), self._line(at, path, message)))

    def warn(
        self, path: tuple[Any, ...], message: str, *, pos: Pos | None = None, key: bool = False
    ) -> None:
        at = self._pos(path, pos, key)
        self.warnings.append((at, len(self.warnings), self._line(at, path, message)))

    def problem_lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.problems)]

    def warning_lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.warnings)]

    def fail(self) -> ManifestError:
        return manifest_error(self.source, self.problem_lines(), self.warning_lines())


def manifest_error(
    source: str, problems: list[str], warnings: list[str] | None = None
) -> ManifestError:
    """A ManifestError whose ``message`` reads well after the CLI's ``Error: ``.

    ``problems`` keeps one line per problem; ``message`` is those lines and a
    last one, ``N problems in voices.yaml`` (the CLI prefixes every line with
    ``Error: ``), so wherever the error propagates each problem stays on its
    own line with its position first. ``warnings`` are the warnings found
    before it failed.
    """
    error = ManifestError(problems)
    count = len(problems)
    summary = f"{count} problem{'' if count == 1 else 's'} in {source}"
    error.message = "\n".join([*problems, summary])
    error.warnings = list(warnings or [])  # type: ignore[attr-defined]
    return error


def _describe(value: Any, info: NodeInfo | None) -> str:
    """How a YAML value reads in a message: ``the boolean no``, ``a list``, ``"abc"``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = info.text if info is not None and info.text is not None else str(value)
    if value is None:
        return "nothing (null)" if not text or text in ("~", "null", "Null", "NULL") else text
    if isinstance(value, bool):
        return f"the boolean {text}"
    if isinstance(value, (int, float)):
        return f"the number {text}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{text} (read by YAML as a {type(value).__name__})"


_EXPECTED = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
}


def _pydantic_problems(exc: ValidationError, doc: YamlDocument, report: _Report) -> None:
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        is_key = bool(loc) and loc[-1] == "[key]"
        path = loc[:-1] if is_key else loc
        info = doc.nodes.get(path)
        value = err.get("input")
        if value is INVALID:
            continue  # a YAML value that could not be built: reported already
        if kind == "missing":
            parent, field_name = path[:-1], path[-1]
            if parent == () and field_name == "version":
                report.error(
                    (), "missing 'version: 1' (every manifest starts with it)", pos=Pos(1, 1)
                )
            else:
                report.error(parent, f"missing required field {field_name!r}", key=True)
        elif kind == "extra_forbidden":
            report.error(path, _unknown_field(path), key=True)
        elif is_key:
            report.error(path, err["msg"], key=True)
        elif kind in ("literal_error", "version_type") and path == ("version",):
            written = info.text if info is not None and info.text is not None else repr(value)
            if isinstance(value, str):
                written = repr(value)
            report.error(
                path,
                f"unsupported version {written}: this voicectl reads version "
                f"{MANIFEST_VERSION} (write 'version: {MANIFEST_VERSION}')",
            )
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            report.error(path, f"expected one of {expected}; got {_describe(value, info)}")
        elif kind in _EXPECTED:
            message = f"{_EXPECTED[kind]}, got {_describe(value, info)}"
            if kind == "string_type" and info is not None and info.plain and value is not None:
                message += f' (put it in quotes: "{info.text}")'
            report.error(path, message)
        else:
            report.error(path, err["msg"])


def _unknown_field(path: tuple[Any, ...]) -> str:
    name = str(path[-1])
    model = _model_at(path[:-1])
    if model is None:
        return f"unknown field {name!r}"
    known = _field_names(model)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:  # case slips (displayname, DisplayName)
        close = [k for k in known if k.lower() == name.lower().replace("_", "")]
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    return f"unknown field {name!r}; allowed: {', '.join(known)}"


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
) -> LoadResult:
    """Read, validate and resolve a manifest.

    Raises ManifestError with every problem found (sorted by position); its
    ``warnings`` attribute holds the warnings found on the way. Files are
    checked only with ``check_files`` (then VoiceSpec's file_sha256,
    audio_format and duration are set).
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


@dataclass
class _Context:
    report: _Report
    root: Path
    allow_outside_files: bool
    allow_any_duration: bool
    check_files: bool


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


def _check_file(
    voice_path: tuple[Any, ...], raw: dict[str, Any], ctx: _Context
) -> tuple[Path, audio.SampleInfo | None] | bool | None:
    """Check a voice's ``file``: (absolute path, audio info or None without
    check_files), False when it has problems, None when ``file`` is not text."""
    rel = raw.get("file")
    if not isinstance(rel, str) or not rel.strip():
        return None
    path = (*voice_path, "file")
    report = ctx.report
    written = Path(rel)
    if written.is_absolute() or rel.startswith("~"):
        if not ctx.allow_outside_files:
            report.error(
                path,
                f"{rel} is an absolute path; a sample must be inside the "
                "manifest's folder (--allow-outside-files allows it)",
            )
            return False
    elif ".." in written.parts and not ctx.allow_outside_files:
        report.error(
            path,
            f"{rel} goes outside the manifest's folder with '..' (--allow-outside-files allows it)",
        )
        return False
    if not ctx.check_files:
        return (_absolute(ctx.root, written, resolve=False), None)
    if rel.strip() == FILE_PLACEHOLDER:
        report.error(
            path,
            f"{FILE_PLACEHOLDER} is a placeholder left by `voicectl import`: set it to the "
            "sample audio this clone was made from (the API cannot download it)",
        )
        return False
    if not ctx.allow_outside_files:
        link = _first_symlink(ctx.root, written)
        if link is not None:
            report.error(
                path,
                f"{rel} goes through a symlink ({link}); a sample must really be "
                "inside the manifest's folder (--allow-outside-files allows it)",
            )
            return False
    target = _absolute(ctx.root, written, resolve=ctx.allow_outside_files)
    check = audio.check_sample(target, name=rel, allow_any_duration=ctx.allow_any_duration)
    for message in check.errors:
        report.error(path, message)
    for message in check.warnings:
        report.warn(path, message)
    if check.info is None:
        return False
    return (target, check.info)


def _absolute(root: Path, written: Path, *, resolve: bool) -> Path:
    joined = root / Path(os.path.expanduser(str(written)))
    return joined.resolve() if resolve else Path(os.path.normpath(joined))


def _first_symlink(root: Path, written: Path) -> str | None:
    """The first part of ``root/written`` below ``root`` that is a symlink, as written."""
    current = root
    walked = Path()
    for part in written.parts:
        current, walked = current / part, walked / part
        if current.is_symlink():
            return str(walked)
        if not current.exists():
            return None
    return None


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
