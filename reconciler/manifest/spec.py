"""The resolved manifest the rest of the program uses: frozen, defaults applied.

``VoiceSpec`` is one voice with its defaults applied and its file checked,
``Manifest`` the whole file, ``LoadResult`` what ``load_manifest`` returns (the
manifest and its warnings). Plain dataclasses, not the document models, so the
planner never sees YAML's optional fields.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from reconciler import audio


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
    # False when the manifest names no stack: ``stack`` is then the lockfile's own
    # (see reconciler.identity.resolve_stack), never a name shared with other projects.
    stack_declared: bool = True
    moved: tuple[tuple[str, str], ...] = ()  # (from, to): renamed keys, no API call
    removed: tuple[str, ...] = ()  # keys let go: dropped from the lockfile, clone kept
    held: tuple[str, ...] = ()  # voices whose file is still import's placeholder

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
