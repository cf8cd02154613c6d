"""Organisations and their clones, kept in memory and optionally in a JSON file.

The file (``--state FILE``) is rewritten atomically after every change (temp file
in the same directory, fsync, ``os.replace``, fsync of the directory), so a
sandbox killed at any instant leaves either the old or the new state, and a
restarted sandbox serves the same clones to the next CLI run.

What is stored: organisation ids (never API keys), each clone's metadata, and
its audio's file name, size and sha256 (never the audio itself).

Time: a clone's lifecycle (``processing`` until ready, then its outcome decided
at create time) and its list visibility (``list_lag_ms``) are stored as wall-clock
instants, so they survive a reload. Within one process they are compared on the
monotonic clock (the wall-clock instant is turned into a monotonic deadline when
the clone is made or loaded), so a wall-clock jump never flips a status back.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.fsutil import atomic_write

STATE_VERSION = 1
CURRENT_MODEL = "lightning-v3.1"
CURRENT_MODELS = ("lightning-v3.1", "lightning-v3.1-pro")
LEGACY_MODEL = "lightning-large"
_ALNUM = string.ascii_letters + string.digits


class StateFileError(Exception):
    """The state file cannot be read or written (message is one line)."""


def iso_ms(epoch: float) -> str:
    """``2026-04-20T09:42:17.103Z`` for a wall-clock instant."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class AudioInfo:
    """What is kept of an uploaded sample: never the bytes."""

    filename: str
    size: int
    sha256: str
    content_type: str

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "size": self.size,
            "sha256": self.sha256,
            "contentType": self.content_type,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AudioInfo:
        return cls(
            filename=str(data["filename"]),
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            content_type=str(data.get("contentType", "")),
        )


@dataclass
class CloneRecord:
    """One clone as the sandbox keeps it."""

    record_id: str
    voice_id: str
    display_name: str
    model_ids: list[str]
    created_epoch: float
    ready_epoch: float  # wall-clock instant the clone leaves 'processing'
    outcome: str  # 'completed' or 'failed', decided at create time
    listed_epoch: float  # wall-clock instant it starts to appear in lists
    audio: AudioInfo
    legacy: bool = False  # made by the deprecated add_voice endpoint
    description: str | None = None
    accent: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    cloning_type: str = "instant"
    # Monotonic deadlines for this process (derived, never stored).
    ready_mono: float = 0.0
    listed_mono: float = 0.0
    # Lists of its organisation that leave it out once more (a list that drops an entry
    # for a moment; set by the ``skipLists`` hook, never stored).
    skip_lists: int = 0

    def anchor(self, now_epoch: float, now_mono: float) -> None:
        """Turn the stored wall-clock instants into monotonic deadlines."""
        self.ready_mono = now_mono + (self.ready_epoch - now_epoch)
        self.listed_mono = now_mono + (self.listed_epoch - now_epoch)

    def status(self, now_mono: float | None = None) -> str:
        now = time.monotonic() if now_mono is None else now_mono
        return self.outcome if now >= self.ready_mono else "processing"

    def listed(self, now_mono: float | None = None) -> bool:
        now = time.monotonic() if now_mono is None else now_mono
        return now >= self.listed_mono

    @property
    def created_at(self) -> str:
        return iso_ms(self.created_epoch)

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": self.record_id,
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "description": self.description,
            "accent": self.accent,
            "tags": list(self.tags),
            "language": self.language,
            "cloningType": self.cloning_type,
            "modelIds": list(self.model_ids),
            "legacy": self.legacy,
            "createdAt": self.created_at,
            "createdEpoch": self.created_epoch,
            "readyEpoch": self.ready_epoch,
            "outcome": self.outcome,
            "listedEpoch": self.listed_epoch,
            "audio": self.audio.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CloneRecord:
        return cls(
            record_id=str(data["_id"]),
            voice_id=str(data["voiceId"]),
            display_name=str(data["displayName"]),
            description=data.get("description"),
            accent=data.get("accent"),
            tags=[str(t) for t in data.get("tags") or []],
            language=data.get("language"),
            cloning_type=str(data.get("cloningType") or "instant"),
            model_ids=[str(m) for m in data.get("modelIds") or [CURRENT_MODEL]],
            legacy=bool(data.get("legacy", False)),
            created_epoch=float(data["createdEpoch"]),
            ready_epoch=float(data.get("readyEpoch", data["createdEpoch"])),
            outcome=str(data.get("outcome") or "completed"),
            listed_epoch=float(data.get("listedEpoch", data["createdEpoch"])),
            audio=AudioInfo.from_json(data["audio"]),
        )


@dataclass
class Org:
    """An organisation: the clones made with one API key."""

    org_id: str
    clones: dict[str, CloneRecord] = field(default_factory=dict)  # voiceId -> clone, in order


class Store:
    """Every organisation's clones, persisted to ``path`` when one is given."""

    def __init__(self, path: Path | None = None, *, id_seed: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.orgs: dict[str, Org] = {}
        self.reseed(id_seed)
        if self.path is not None and self.path.exists():
            self._load()

    # -- ids ---------------------------------------------------------------------
    def reseed(self, seed: int | None) -> None:
        """Restart the id generator (seeded runs make the same ids)."""
        self._ids = (
            random.Random(f"voicectl-sandbox-ids:{seed}") if seed is not None else random.Random()
        )

    def new_voice_id(self) -> str:
        while True:
            candidate = "voice_" + "".join(self._ids.choice(_ALNUM) for _ in range(10))
            if self.find(candidate) is None:
                return candidate

    def new_record_id(self) -> str:
        taken = {clone.record_id for clone in self.all_clones()}
        while True:
            candidate = f"{self._ids.getrandbits(96):024x}"
            if candidate not in taken:
                return candidate

    # -- queries -----------------------------------------------------------------
    def org(self, org_id: str) -> Org:
        """The organisation ``org_id``, created empty on first use."""
        org = self.orgs.get(org_id)
        if org is None:
            org = self.orgs[org_id] = Org(org_id)
        return org

    def find(self, voice_id: str) -> tuple[Org, CloneRecord] | None:
        """The clone ``voice_id`` in whatever organisation holds it."""
        for org in self.orgs.values():
            clone = org.clones.get(voice_id)
            if clone is not None:
                return org, clone
        return None

    def all_clones(self) -> Iterator[CloneRecord]:
        for org in self.orgs.values():
            yield from org.clones.values()

    # -- changes -----------------------------------------------------------------
    def add(self, org_id: str, clone: CloneRecord) -> None:
        self.org(org_id).clones[clone.voice_id] = clone
        self.save()

    def remove(self, org_id: str, voice_id: str) -> CloneRecord | None:
        clone = self.org(org_id).clones.pop(voice_id, None)
        if clone is not None:
            self.save()
        return clone

    def clear(self) -> None:
        self.orgs.clear()
        self.save()

    # -- persistence -------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "orgs": {
                org_id: {"clones": [c.to_json() for c in org.clones.values()]}
                for org_id, org in self.orgs.items()
            },
        }

    def save(self) -> None:
        """Write the state file atomically (no-op without a file)."""
        if self.path is None:
            return
        data = json.dumps(self.to_json(), indent=1, ensure_ascii=False).encode("utf-8")
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise StateFileError(f"{self.path}: cannot write the sandbox state: {exc}") from exc

    def _load(self) -> None:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                raise ValueError(f"not a version {STATE_VERSION} sandbox state file")
            now_epoch, now_mono = time.time(), time.monotonic()
            for org_id, org_data in (data.get("orgs") or {}).items():
                org = self.org(str(org_id))
                for raw in org_data.get("clones") or []:
                    clone = CloneRecord.from_json(raw)
                    clone.anchor(now_epoch, now_mono)
                    org.clones[clone.voice_id] = clone
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(f"{self.path}: cannot read the sandbox state: {exc}") from exc
