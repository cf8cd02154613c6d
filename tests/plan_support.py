"""Small builders for plan tests: declared voices, manifests and remote clones.

The plan is pure, so its tests need no files and no server: these stand-ins have
exactly the attributes ``reconciler.plan`` reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.api.models import Clone
from reconciler.lockfile import LockDocument, LockEntry
from reconciler.ownership import marker_tags
from reconciler.plan import desired_digest


@dataclass(frozen=True)
class Voice:
    name: str
    display_name: str = ""
    language: str | None = "en"
    description: str | None = None
    accent: str | None = None
    tags: tuple[str, ...] = ()
    protect: bool = False
    file_sha256: str | None = None
    file: Path = Path("sample.wav")

    def __post_init__(self):
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)
        if self.file_sha256 is None:
            sha = hashlib.sha256(self.name.encode()).hexdigest()
            object.__setattr__(self, "file_sha256", sha)


@dataclass
class Manifest:
    voices: dict[str, Voice] = field(default_factory=dict)
    stack: str = "test"
    prune: str = "managed"
    ignore: tuple[str, ...] = ()
    moved: tuple[tuple[str, str], ...] = ()
    removed: tuple[str, ...] = ()
    held: tuple[str, ...] = ()


def manifest(*voices: Voice, **kw) -> Manifest:
    return Manifest(voices={v.name: v for v in voices}, **kw)


_counter = 0  # clones made so far in this test (conftest resets it before each test)


def reset() -> None:
    """Start numbering clones afresh: a test's ids and times never depend on test order."""
    global _counter
    _counter = 0


def _created_at(n: int) -> str:
    """The n-th clone of a test is made n seconds after 2026-01-01T00:00:00Z."""
    return f"2026-01-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"


def clone_of(
    voice: Voice,
    *,
    stack: str = "test",
    voice_id: str | None = None,
    status: str = "completed",
    models: tuple[str, ...] = ("lightning-v3.1",),
    tagged: bool = True,
    **overrides,
) -> Clone:
    """The clone voicectl would have made of ``voice`` (override fields to drift it)."""
    global _counter
    _counter += 1
    tags = list(voice.tags)
    if tagged:
        tags += marker_tags(stack, voice.name, desired_digest(voice))
    data = {
        "voiceId": voice_id or f"voice_{_counter:06d}",
        "displayName": voice.display_name,
        "language": voice.language,
        "description": voice.description,
        "accent": voice.accent,
        "tags": tags,
        "status": status,
        "modelIds": list(models),
        "createdAt": _created_at(_counter),
    }
    data.update(overrides)
    return Clone.from_api(data)


def foreign(display_name: str, voice_id: str | None = None, **kw) -> Clone:
    """A clone nobody manages (made in the dashboard)."""
    global _counter
    _counter += 1
    data = {
        "voiceId": voice_id or f"voice_f{_counter:05d}",
        "displayName": display_name,
        "status": "completed",
        "modelIds": ["lightning-v3.1"],
        "tags": [],
    }
    data.update(kw)
    return Clone.from_api(data)


def lock_with(*pairs: tuple[Voice, Clone], stack: str = "test") -> LockDocument:
    doc = LockDocument(lineage="00000000-0000-0000-0000-000000000000", stack=stack)
    for voice, clone in pairs:
        doc.voices[voice.name] = LockEntry(
            voice_id=clone.voice_id,
            display_name=clone.display_name,
            language=clone.language,
            model_ids=clone.models,
            file_sha256=voice.file_sha256,
            spec_digest=desired_digest(voice),
            status=clone.status,
            protect=voice.protect,
        )
    return doc
