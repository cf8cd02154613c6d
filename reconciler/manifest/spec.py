"""The resolved manifest the rest of the program uses: frozen, defaults applied.

``VoiceSpec`` is one voice with its defaults applied and its file checked: the
fields of the document (``VoiceDocument``) resolved by :func:`declared`
(:class:`Declared`, the one resolved form of a voice's fields) plus what the
file check found;
``Manifest`` the whole file (its included files merged in, and, for a chosen
environment, only that environment's voices with its defaults), ``Environment``
one declared environment, ``SourceFile`` one file the manifest was read from,
``LoadResult`` what ``load_manifest`` returns (the manifest and its warnings).
Plain dataclasses, not the document models, so the planner never sees YAML's
optional fields.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import audio
from reconciler.languages import DEFAULT_MODEL
from reconciler.refusals import DEFAULT_SAFETY, Safety

if TYPE_CHECKING:  # the documents it resolves (pydantic; this module reads their fields)
    from reconciler.manifest.models import DefaultsDocument, VoiceDocument


@dataclass(frozen=True, kw_only=True)
class Declared:
    """What a voice declares, with the manifest's defaults applied: the one resolved
    form of ``VoiceDocument``'s fields (:func:`declared` makes it), which the plan
    compares a clone with and ``voicectl import`` checks its stanzas against."""

    display_name: str
    language: str | None
    description: str | None
    accent: str | None
    tags: tuple[str, ...]
    protect: bool = False
    environments: tuple[str, ...] | None = None  # None: every environment
    model: str = DEFAULT_MODEL  # the clone model (lightning-v3.1 | lightning-v3.1-pro)


def declared(name: str, voice: VoiceDocument, defaults: DefaultsDocument) -> Declared:
    """``voice`` (its key ``name``) with ``defaults`` applied, field by field.

    A field the voice sets wins, even set to null (no language although a default
    has one); else the default's. The model falls back to the default's, then to
    lightning-v3.1; tags are the defaults' then the voice's own, without repeats.
    """
    own = voice.model_fields_set
    return Declared(
        display_name=voice.display_name if voice.display_name is not None else name,
        language=voice.language if "language" in own else defaults.language,
        description=voice.description if "description" in own else defaults.description,
        accent=voice.accent if "accent" in own else defaults.accent,
        tags=tuple(dict.fromkeys([*(defaults.tags or ()), *(voice.tags or ())])),
        protect=voice.protect,
        environments=tuple(dict.fromkeys(voice.environments)) if voice.environments else None,
        model=(voice.model if "model" in own else None) or defaults.model or DEFAULT_MODEL,
    )


DECLARED_FIELDS = tuple(f.name for f in fields(Declared))


@dataclass(frozen=True, kw_only=True)
class VoiceSpec(Declared):
    """One voice of the manifest as the program uses it: what it declares
    (:class:`Declared`, defaults applied) and its sample file, checked."""

    name: str
    file: Path  # absolute
    file_rel: str  # relative to the manifest's folder (as written, in the manifest itself)
    file_sha256: str | None  # None when check_files=False
    audio_format: str | None  # 'wav' | 'mp3' | 'mp4' | 'webm'; None when check_files=False
    duration: float | None  # seconds; None when check_files=False
    line: int  # line of the voice's key, 1-based
    source: str = ""  # the file that declares the voice, as messages name it

    @property
    def mime_type(self) -> str | None:
        """The MIME type to upload the sample with."""
        return audio.MIME_TYPES.get(self.audio_format or "")


@dataclass(frozen=True)
class Environment:
    """One declared environment: its own organisation, key, lockfile and stack."""

    name: str
    api_key_env: str  # the NAME of the variable holding the key
    api_url: str | None
    line: int  # line of its key in the manifest


@dataclass(frozen=True)
class SourceFile:
    """A file the manifest was read from: the manifest itself, or an included file."""

    path: Path  # absolute
    rel: str  # relative to the manifest's folder, with forward slashes
    sha256: str  # of its bytes


@dataclass(frozen=True)
class Manifest:
    path: Path
    root: Path  # the manifest's folder (absolute); files resolve from here
    version: int
    stack: str  # for a chosen environment: the environment's own stack
    prune: str
    ignore: tuple[str, ...]
    voices: dict[str, VoiceSpec]  # in file order (the manifest's, then each include's)
    raw_sha256: str  # of the manifest's bytes
    environments: dict[str, Environment] = field(default_factory=dict)
    environment: str | None = None  # the chosen one (load_manifest's ``environment``)
    base_stack: str = ""  # the manifest's own stack (before an environment's suffix)
    sources: tuple[SourceFile, ...] = ()  # the manifest first, then the included files
    safety: Safety = DEFAULT_SAFETY  # the plan's mass-change thresholds (``safety:``)

    @property
    def included(self) -> tuple[SourceFile, ...]:
        """The files read through ``include`` (not the manifest itself)."""
        return self.sources[1:]

    # False when the manifest names no stack: ``stack`` is then the lockfile's own
    # (see reconciler.engine.workflow.bind_stack), never a name shared with other projects.
    stack_declared: bool = True
    moved: tuple[tuple[str, str], ...] = ()  # (from, to): renamed keys, no API call
    removed: tuple[str, ...] = ()  # keys let go: dropped from the lockfile, clone kept
    held: tuple[str, ...] = ()  # voices whose file is still import's placeholder
    # voices declared only for other environments than the chosen one -> those
    elsewhere: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
    """A valid manifest and its warnings. With ``load_manifest(defer_quality=True)``
    its samples may still be being measured: ``settle()`` before trusting it."""

    manifest: Manifest
    warnings: list[str]
    finish: Callable[[], list[str]] | None = None  # the deferred quality checks
    stop: Callable[[], None] | None = None  # ... told to start no further sample

    def settle(self) -> None:
        """Wait for the deferred quality checks, if any: raise their ManifestError
        (every problem of the manifest, as load_manifest raises it), or take in
        their warnings (``warnings`` is then the whole list, in order)."""
        finish, self.finish = self.finish, None
        if finish is not None:
            self.warnings = finish()

    def stop_measuring(self) -> None:
        """The run is being interrupted: measure no further sample (those being
        measured finish); ``settle()`` then raises audio's AnalysisStopped."""
        if self.stop is not None:
            self.stop()
