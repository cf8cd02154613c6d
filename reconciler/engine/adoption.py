"""`voicectl import`: adopt existing clones into the manifest and the lockfile.

The pure-ish parts live here: which clones can be imported, their names
(slugified, unique), their stanzas (exactly what the service reports, so the next
plan is a no-op for a current clone), where their sample is, the lockfile entry,
and the edit of ``voices.yaml`` that keeps the user's comments, order and
formatting.

Why "exactly what the service reports": there is no update endpoint, so any
difference between a stanza and its clone makes the next plan re-clone it (a new
voiceId). For a legacy clone that does not matter - it is re-cloned by the
migration anyway - so a legacy stanza leaves out what the service does not report
and lets the manifest's ``defaults`` apply to the new clone.

How the manifest is edited: the new stanzas are inserted as text after the last
line of the ``voices:`` mapping (or replace an empty ``voices:``, or are appended
when there is none), so every other byte of the file stays as the user wrote it.
Only when the file is written in a way that makes a text insertion unsafe (a flow
style ``voices: {a: ...}``, a flow-style document) is it round-tripped through
ruamel.yaml, which keeps comments and order but may re-indent. Either way the
result is parsed again and must equal the old document plus the new voices, or
nothing is written.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reconciler.api.models import CURRENT_MODEL, Clone
from reconciler.audio import EXTENSION_FORMATS, check_sample, file_sha256
from reconciler.errors import UserError
from reconciler.fsutil import read_regular
from reconciler.lockfile import LockDocument, LockEntry, entry_for
from reconciler.manifest import (
    DISPLAY_NAME_MAX,
    FILE_PLACEHOLDER,
    NAME_PATTERN,
    DefaultsDocument,
    VoiceDocument,
)
from reconciler.manifest.spec import declared
from reconciler.ownership import ours, owner_of, user_tags
from reconciler.plan import BUSY, is_ignored, metadata_changes
from reconciler.text import clean

NAME_MAX = 63
_NAME_RE = re.compile(NAME_PATTERN)
FIELDS = (
    "file",
    "displayName",
    "language",
    "description",
    "accent",
    "model",
    "tags",
    "environments",
)


# --------------------------------------------------------------------------- names


def slugify(text: str) -> str:
    """A manifest name from a displayName: lowercase ASCII, ``a-z 0-9 . _ -``, ≤ 63.

    ``"Narrator (EN) – v2"`` -> ``"narrator-en-v2"``; "" when nothing usable is left.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower())
    slug = re.sub(r"-{2,}", "-", slug)
    slug = slug.strip("-._")
    return slug[:NAME_MAX].rstrip("-._")


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... (shortened to fit 63 characters)."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        name = base[: NAME_MAX - len(suffix)].rstrip("-._") + suffix
        if name not in taken:
            return name
        n += 1


# --------------------------------------------------------------------------- what the manifest has


@dataclass
class Target:
    """The manifest import writes into (or will create)."""

    path: Path
    root: Path  # the manifest's folder, absolute
    exists: bool
    text: str | None  # without a BOM
    bom: bool
    stack: str | None  # None: the manifest names none; the lockfile's own is used
    names: set[str]
    ignore: tuple[str, ...]
    defaults: DefaultsDocument  # the manifest's own (validated when it was read)
    environment: str | None = None  # import --env: the stanzas are limited to it
    # names the manifest lets go of or renamed away (removed:, moved[].from): declaring
    # one again would fail validation, so no stanza is given one
    reserved: frozenset[str] = frozenset()


def read_target(path: Path, *, stack: str | None, environment: str | None = None) -> Target:
    """Read (and validate, files unchecked) the manifest; a missing one is created later.

    With ``environment`` the stack is that environment's, and every stanza written
    says ``environments: [NAME]`` (the clone lives in that environment only).
    """
    from reconciler.manifest import load_manifest

    path = Path(path)
    root = Path(os.path.abspath(path)).parent
    if not path.exists():
        return Target(path, root, False, None, False, stack, set(), (), DefaultsDocument())
    result = load_manifest(path, check_files=False)  # ManifestError lists every problem
    manifest = result.manifest
    if environment is not None:
        manifest = load_manifest(path, check_files=False, environment=environment).manifest
    if stack is not None and stack != manifest.base_stack:
        says = (
            f"says stack {manifest.base_stack!r}" if manifest.stack_declared else "names no stack"
        )
        raise UserError(
            f"--stack {stack}: {path} already {says}; "
            "leave --stack out (it is only for a new manifest)"
        )
    raw = read_regular(path)
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    data = _load(text) or {}
    defaults = DefaultsDocument.model_validate(data.get("defaults") or {})
    names = set((data.get("voices") or {}).keys()) | set(result.manifest.voices)  # includes too
    declared = manifest.stack if manifest.stack_declared else None
    reserved = frozenset(manifest.removed) | {old for old, _new in manifest.moved}
    return Target(
        path,
        root,
        True,
        text,
        bom,
        declared,
        names,
        manifest.ignore,
        defaults,
        environment,
        reserved,
    )


# --------------------------------------------------------------------------- choosing clones


@dataclass(frozen=True)
class Skipped:
    clone: Clone
    reason: str
    managed: bool = False  # already in this lockfile (not worth a line unless selected)


def matches(clone: Clone, patterns: Iterable[str]) -> bool:
    """A voiceId or displayName glob (fnmatch, case-sensitive; a bare voiceId matches itself)."""
    return any(
        fnmatch.fnmatchcase(clone.voice_id, p) or fnmatch.fnmatchcase(clone.display_name, p)
        for p in patterns
    )


def choose(
    remote: Sequence[Clone],
    lock: LockDocument,
    target: Target,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> tuple[list[Clone], list[Skipped]]:
    """The clones to import (oldest first) and the selected ones that cannot be."""
    recorded: dict[str, str] = {e.voice_id: f"voices.{n}" for n, e in lock.voices.items()}
    recorded.update({vid: f"pending {p.name}" for vid, p in lock.pending.items()})
    recorded.update({vid: f"retired {r.name}" for vid, r in lock.retired.items()})
    # handed off for deletion (its voice was removed): importing it would undo that
    recorded.update(
        {vid: f"awaiting deletion, {a.name or a.reason}" for vid, a in lock.awaiting.items()}
    )
    stack = target.stack
    assert stack is not None, "the import use case resolves a manifest's missing stack first"
    chosen: list[Clone] = []
    skipped: list[Skipped] = []
    for clone in sorted(remote, key=lambda c: (c.created_at or "", c.voice_id)):
        if select and not matches(clone, select):
            continue
        if exclude and matches(clone, exclude):
            continue
        owner = owner_of(clone.tags)
        if clone.voice_id in recorded:
            skipped.append(
                Skipped(clone, f"already managed ({recorded[clone.voice_id]})", managed=True)
            )
        elif clone.voice_id in lock.released:
            skipped.append(
                Skipped(
                    clone,
                    f"released by removed: [{lock.released[clone.voice_id].name}]; a released "
                    "clone is never managed again (delete it in the dashboard if it is unwanted)",
                    managed=True,
                )
            )
        elif ours(owner, stack):
            skipped.append(
                Skipped(
                    clone,
                    f"made by this stack for voices.{owner.name}; `voicectl plan` adopts it "
                    "when that voice is declared",
                    managed=True,
                )
            )
        elif owner is not None:
            skipped.append(Skipped(clone, f"owned by stack {owner.stack!r}"))
        elif is_ignored(clone, target.ignore):
            skipped.append(Skipped(clone, "matches the manifest's ignore list"))
        elif clone.status in BUSY:
            skipped.append(Skipped(clone, f"still {clone.status}; import it once it has completed"))
        elif clone.status == "failed":
            skipped.append(Skipped(clone, "failed on the service (delete it in the dashboard)"))
        else:
            chosen.append(clone)
    return chosen, skipped


# --------------------------------------------------------------------------- samples


def _fold(name: str) -> str:
    """A file stem or displayName as they are matched: letter case aside, and in one
    Unicode form (macOS writes "é" in file names as "e" + a combining accent)."""
    return unicodedata.normalize("NFC", name).lower()


def index_samples(directory: Path) -> dict[str, list[Path]]:
    """Accepted audio files in ``directory`` (not recursive), by folded stem (_fold)."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(directory.iterdir()):
        if entry.is_file() and entry.suffix.lower() in EXTENSION_FORMATS:
            found.setdefault(_fold(entry.stem), []).append(entry)
    return found


def find_sample(
    index: dict[str, list[Path]], keys: Sequence[str]
) -> tuple[Path | None, list[Path]]:
    """The file named after the first key that has one; (None, candidates) if ambiguous."""
    for key in keys:
        files = index.get(_fold(key), [])
        if len(files) == 1:
            return files[0], []
        if len(files) > 1:
            return None, files
    return None, []


# --------------------------------------------------------------------------- stanzas


@dataclass
class Adoption:
    """One clone to import: its name, stanza, sample and what to tell the user."""

    name: str
    clone: Clone
    stanza: dict[str, Any]  # field -> value, in writing order (None values written as null)
    sample: Path | None
    file_sha256: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def legacy(self) -> bool:
        return self.clone.is_legacy

    @property
    def placeholder(self) -> bool:
        return self.sample is None

    def lock_entry(self) -> LockEntry:
        return entry_for(self.clone, file_sha256=self.file_sha256)


def _text(value: str | None) -> str | None:
    """A service text field as a manifest value: "" and whitespace-only mean none."""
    if value is None or not value.strip():
        return None
    return value


def _schema_problems(stanza: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each field VoiceDocument refuses."""
    try:
        VoiceDocument.model_validate(stanza)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            loc = [str(p) for p in err["loc"]]
            out.append((loc[0] if loc else "", ".".join(loc) + ": " + err["msg"]))
        return out
    return []


def build_stanza(
    clone: Clone, name: str, file_value: str, defaults: DefaultsDocument
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The stanza for ``clone``: (stanza, notes, problems).

    A current clone's stanza must describe the clone exactly (problems otherwise);
    a legacy clone's may be tidied (notes say how), since it is re-cloned anyway.
    """
    legacy = clone.is_legacy
    notes: list[str] = []
    problems: list[str] = []
    stanza: dict[str, Any] = {"file": file_value, "displayName": clone.display_name}
    for key, value, default in (
        ("language", _text(clone.language), defaults.language),
        ("description", _text(clone.description), defaults.description),
        ("accent", _text(clone.accent), defaults.accent),
    ):
        if value is not None:
            stanza[key] = value
        elif default is not None and not legacy:
            stanza[key] = None  # the clone has none: override the manifest's default
    model = clone.clone_model  # a Pro clone stays on Pro (else the plan would replace it)
    if model is not None and model != (defaults.model or CURRENT_MODEL):
        stanza["model"] = model
    tags = [t for t in dict.fromkeys(user_tags(clone.tags)) if t not in (defaults.tags or ())]
    if tags:
        stanza["tags"] = tags

    found = _schema_problems(stanza)
    if found and not legacy:
        problems = [
            f"{message} (a manifest cannot describe this clone exactly; "
            "--exclude it, or fix it in the dashboard)"
            for _, message in found
        ]
        return stanza, notes, problems
    for key, _message in found:
        # legacy: the clone is re-cloned anyway - tidy the value and say so
        if key == "displayName" and "displayName" in stanza:
            tidy = clean(clone.display_name)[:DISPLAY_NAME_MAX].strip()
            if tidy:
                stanza["displayName"] = tidy
                notes.append(f"displayName tidied to {tidy!r} for the new clone")
            else:
                del stanza["displayName"]
                notes.append(f"no usable displayName; the new clone is named {name!r}")
        elif key == "tags" and "tags" in stanza:
            good = [t for t in stanza["tags"] if not _schema_problems({"file": "x", "tags": [t]})]
            dropped = [t for t in stanza["tags"] if t not in good]
            if good:
                stanza["tags"] = good
            else:
                del stanza["tags"]
            if dropped:
                notes.append(f"tags {dropped!r} cannot be written in a manifest; left out")
        elif key in stanza and key != "file":
            notes.append(f"{key} {stanza.pop(key)!r} is not valid in a manifest; left out")
    problems = [message for _, message in _schema_problems(stanza)]
    if not problems and not legacy:
        resolved = declared(name, VoiceDocument.model_validate(stanza), defaults)
        changes = metadata_changes(clone, resolved)
        if changes:
            fields = ", ".join(c.field for c in changes)
            notes.append(
                f"the manifest's defaults change its {fields}; the next apply would re-clone "
                "it (a new voiceId)"
            )
    return stanza, notes, problems


def plan_adoptions(
    clones: Sequence[Clone],
    lock: LockDocument,
    target: Target,
    *,
    samples_dir: Path | None,
) -> tuple[list[Adoption], list[str]]:
    """Names, stanzas and samples for ``clones``: (adoptions, problems)."""
    taken = set(target.names) | set(lock.voices) | target.reserved
    problems: list[str] = []
    adoptions: list[Adoption] = []
    index = index_samples(samples_dir) if samples_dir is not None else {}
    display_counts: dict[str, int] = {}
    for clone in clones:
        key = _fold(clone.display_name)
        display_counts[key] = display_counts.get(key, 0) + 1
    where = target.path.name
    for clone in clones:
        label = f"{clean(clone.voice_id)} ({json.dumps(clean(clone.display_name))})"
        base = slugify(clone.display_name) or slugify(clone.voice_id) or "voice"
        if not _NAME_RE.fullmatch(base):
            base = ("v-" + base)[:NAME_MAX]
        if base in target.names and base not in lock.voices:
            problems.append(
                f"{label}: would be imported as {base!r}, which {where} already declares but "
                "the lockfile does not record; if it is the same voice, remove that stanza and "
                "import again, otherwise --exclude this clone"
            )
            continue
        name = unique_name(base, taken)
        taken.add(name)
        sample = None
        sha = None
        notes: list[str] = []
        if samples_dir is not None:
            keys = [name, clone.voice_id]
            shared = display_counts[_fold(clone.display_name)] > 1
            if clone.display_name and not shared:
                keys.append(clone.display_name)
            sample, ambiguous = find_sample(index, keys)
            if ambiguous:
                listed = ", ".join(p.name for p in ambiguous)
                notes.append(f"several samples match ({listed}); `file:` left to fill in")
            elif sample is None and shared and clone.display_name:
                named = index.get(_fold(clone.display_name), [])
                if named:
                    listed = ", ".join(p.name for p in named)
                    notes.append(
                        f"{listed} is named after a displayName several clones share "
                        "(letter case aside); `file:` left to fill in"
                    )
        if sample is not None:
            failed = check_sample(sample, name=sample.name, want_sha256=False).errors
            if failed:
                # written as file:, it would fail every plan of the project; the
                # placeholder holds back this voice only
                notes.append(f"{failed[0]}; `file:` left to fill in")
                sample = None
        if sample is not None:
            file_value = Path(os.path.relpath(sample.resolve(), target.root.resolve())).as_posix()
            if file_value.startswith("../"):
                file_value = str(sample.resolve())
            sha = file_sha256(sample)
        else:
            file_value = FILE_PLACEHOLDER
        stanza, more, bad = build_stanza(clone, name, file_value, target.defaults)
        if target.environment is not None:
            stanza["environments"] = [target.environment]
        problems.extend(f"{label}: {p}" for p in bad)
        adoptions.append(Adoption(name, clone, stanza, sample, sha, notes + more))
    return adoptions, problems


# --------------------------------------------------------------------------- YAML text


def _scalar(value: Any) -> str:
    """One YAML scalar that PyYAML (YAML 1.1, as the loader) reads back as ``value``."""
    if value is None:
        return "null"
    out = yaml.safe_dump(
        {"k": value}, allow_unicode=True, width=1_000_000, default_flow_style=False
    )
    lines = out.rstrip("\n").split("\n")
    if len(lines) == 1 and lines[0].startswith("k: "):
        return lines[0][3:]
    return json.dumps(value, ensure_ascii=True)  # a valid YAML double-quoted scalar


def _comment(text: str) -> str:
    return clean(text).replace("\n", " ")


def stanza_lines(adoption: Adoption, indent: int, step: int) -> list[str]:
    """The YAML lines of one stanza, its key at column ``indent``."""
    pad = " " * indent
    inner = " " * (indent + step)
    c = adoption.clone
    kind = (
        f"LEGACY {','.join(c.models) or 'no modelIds'}; `voicectl migrate` re-clones it"
        if adoption.legacy
        else (c.clone_model or "lightning-v3.1")
    )
    lines = [f"{pad}# imported from {_comment(c.voice_id)} ({_comment(kind)})"]
    lines.append(f"{pad}{_scalar(adoption.name)}:")  # 'yes' and '1' must stay text
    for key in FIELDS:
        if key not in adoption.stanza:
            continue
        value = adoption.stanza[key]
        if key in ("tags", "environments"):
            lines.append(f"{inner}{key}:")
            lines.extend(f"{inner}- {_scalar(t)}" for t in value)
        elif key == "file" and adoption.placeholder:
            lines.append(
                f"{inner}file: {_scalar(value)}  # the sample audio this clone was made from"
            )
        else:
            lines.append(f"{inner}{key}: {_scalar(value)}")
    return lines


def stanzas_text(adoptions: Sequence[Adoption], indent: int = 2, step: int = 2) -> str:
    """The YAML of every stanza (what --dry-run prints, under ``voices:``)."""
    return "".join(line + "\n" for a in adoptions for line in stanza_lines(a, indent, step))


def new_manifest_text(stack: str | None, adoptions: Sequence[Adoption]) -> str:
    head = (
        "# voicectl manifest: the voice clones that should exist (see `voicectl validate`).\n"
        f"version: 1\nstack: {_scalar(stack)}\n\nvoices:\n"
    )
    return head + stanzas_text(adoptions)


def _expected(old_data: Any, adoptions: Sequence[Adoption]) -> dict[str, Any]:
    data = dict(old_data or {})
    voices = dict(data.get("voices") or {})
    for a in adoptions:
        voices[a.name] = dict(a.stanza)
    data["voices"] = voices
    return data


# YAML read as the manifest loader reads it (libyaml where present: it takes tabs that
# the pure-Python reader refuses, before a comment or in a flow mapping)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def _same(text: str, expected: dict[str, Any]) -> bool:
    try:
        data = _load(text)
    except yaml.YAMLError:
        return False
    if not isinstance(data, dict) or data != expected:
        return False
    return list(data["voices"]) == list(expected["voices"])


def add_voices(text: str, adoptions: Sequence[Adoption]) -> str:
    """``text`` with the stanzas added under ``voices:``; every other byte kept if it can be.

    Raises UserError when no edit gives exactly the old document plus the new voices.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    work = text.replace("\r\n", "\n")
    try:
        old_data = _load(work)
    except yaml.YAMLError:  # the loader read it; a stricter reader may not
        old_data = None
    if not isinstance(old_data, dict):
        raise UserError("the manifest is not a mapping of fields; cannot add voices to it")
    expected = _expected(old_data, adoptions)
    for attempt in (_insert_text, _insert_roundtrip):
        try:
            candidate = attempt(work, adoptions)
        except Exception:  # any failure of one strategy: try the next
            candidate = None
        if candidate is not None and _same(candidate, expected):
            return candidate.replace("\n", newline) if newline != "\n" else candidate
    raise UserError(
        "cannot add the imported voices to the manifest without changing what it says; "
        "run import with --dry-run and add the printed stanzas by hand"
    )


_CONTENT_TOKENS = (
    yaml.ScalarToken,
    yaml.AliasToken,
    yaml.FlowMappingEndToken,
    yaml.FlowSequenceEndToken,
)


def _insert_text(text: str, adoptions: Sequence[Adoption]) -> str | None:
    """Insert the stanzas as text: after the last line of a block ``voices:`` mapping, in
    place of an empty ``voices:`` value, or as a new ``voices:`` at the end."""
    root = yaml.compose(text, Loader=_LOADER)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        return None
    voices_key = voices_val = None
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "voices":
            voices_key, voices_val = key_node, value_node
    body = text if text.endswith("\n") or not text else text + "\n"
    if voices_key is None:
        top = root.value[0][0].start_mark.column
        return body + "\nvoices:\n" + stanzas_text(adoptions, top + 2)
    key_col = voices_key.start_mark.column
    if isinstance(voices_val, yaml.MappingNode) and not voices_val.flow_style and voices_val.value:
        indent = voices_val.value[0][0].start_mark.column
        step = 2
        for key_node, value_node in voices_val.value:
            written_here = value_node.start_mark.index > key_node.start_mark.index  # no alias
            if isinstance(value_node, yaml.MappingNode) and value_node.value and written_here:
                inner = value_node.value[0][0].start_mark.column - key_node.start_mark.column
                if inner > 0 and not value_node.flow_style:
                    step = inner
                    break
        start, end = voices_val.start_mark.index, voices_val.end_mark.index
        ends = [
            token.end_mark.index
            for token in yaml.scan(text, Loader=_LOADER)
            if start <= token.start_mark.index < end and isinstance(token, _CONTENT_TOKENS)
        ]
        if not ends:
            return None
        at = max(ends)
        if not (at > 0 and text[at - 1] == "\n"):
            nl = text.find("\n", at)
            if nl < 0:
                return body + stanzas_text(adoptions, indent, step)
            at = nl + 1
        return text[:at] + stanzas_text(adoptions, indent, step) + text[at:]
    empty_scalar = isinstance(voices_val, yaml.ScalarNode) and voices_val.tag.endswith(":null")
    empty_flow = (
        isinstance(voices_val, (yaml.MappingNode, yaml.SequenceNode)) and not voices_val.value
    )
    if voices_val is None or not (empty_scalar or empty_flow):
        return None
    start, end = voices_val.start_mark.index, voices_val.end_mark.index
    if start == end:  # `voices:` with nothing after it: the value is empty at the colon
        at = text.find("\n", start)
        at = len(text) if at < 0 else at
        before, after = text[:at], text[at:]
        after = after[1:] if after.startswith("\n") else after
        block = stanzas_text(adoptions, key_col + 2)
        return before + "\n" + block + after
    before, after = text[:start].rstrip(" "), text[end:]
    nl = after.find("\n")
    rest_of_line, after = (after, "") if nl < 0 else (after[:nl], after[nl + 1 :])
    comment = rest_of_line.strip()
    head = before + (f"  {comment}" if comment.startswith("#") else "") + "\n"
    return head + stanzas_text(adoptions, key_col + 2) + after


def _insert_roundtrip(text: str, adoptions: Sequence[Adoption]) -> str | None:
    """ruamel.yaml round trip: comments and order kept, layout may be normalised."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1_000_000
    rt.indent(
        mapping=indent or 2,
        sequence=(indent or 2) + (block_seq_indent or 0),
        offset=block_seq_indent or 0,
    )
    data = rt.load(text)
    if not isinstance(data, CommentedMap):
        return None

    def value(v: Any) -> Any:
        if isinstance(v, str):
            plain = _scalar(v)
            return DoubleQuotedScalarString(v) if plain[:1] in ("'", '"') else v
        if isinstance(v, list):
            return CommentedSeq([value(x) for x in v])
        return v

    voices = data.get("voices")
    if not isinstance(voices, CommentedMap):
        voices = CommentedMap()
        data["voices"] = voices
    for a in adoptions:
        stanza = CommentedMap()
        for key in FIELDS:
            if key in a.stanza:
                stanza[key] = value(a.stanza[key])
        key = value(a.name)
        voices[key] = stanza
        if not voices.fa.flow_style():
            voices.yaml_set_comment_before_after_key(
                key, before=f"imported from {_comment(a.clone.voice_id)}", indent=indent or 2
            )
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()
