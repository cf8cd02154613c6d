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
import math
import os
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


class _BadRecord(ValueError):
    """A field of the state file that is missing or of the wrong type; the message starts
    with where it is in the file, e.g. ``orgs["x"].clones[0]: no '_id' field``."""


def _field(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise _BadRecord(f"{where}: not an object")
    if key not in data:
        raise _BadRecord(f"{where}: no {key!r} field")
    return data[key]


def _text(data: Any, key: str, where: str) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str):
        raise _BadRecord(f"{where}.{key}: not a string")
    return value


def _optional_text(data: dict[str, Any], key: str, where: str) -> str | None:
    """A string or null (or absent) field; call after a required one has checked ``data``."""
    return None if data.get(key) is None else _text(data, key, where)


def _number(data: Any, key: str, where: str, default: float | None = None) -> float:
    """A finite number (``default`` when the field is absent, if one is given)."""
    if default is not None and isinstance(data, dict) and key not in data:
        return default
    value = _field(data, key, where)
    try:
        number = math.nan if isinstance(value, (bool, str)) else float(value)
    except (TypeError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise _BadRecord(f"{where}.{key}: not a finite number")
    return number


def _texts(data: dict[str, Any], key: str, where: str) -> list[str] | None:
    """A list of strings, or None when absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadRecord(f"{where}.{key}: not a list of strings")
    return list(value)


def check_place(path: Path, *, make_folder: bool = True) -> None:
    """Refuse a state file that could never be written: a folder in its place, a file
    where a folder of its path should be, or (``make_folder=False``, as ``sandbox serve
    --state`` asks) a folder that does not exist. Raises :class:`StateFileError`."""
    path = Path(path)
    try:
        if path.is_dir():
            raise StateFileError(f"{path}: is a folder, not a sandbox state file")
        folder = existing = path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if existing.exists() and not existing.is_dir():
            raise StateFileError(
                f"{path}: cannot keep the sandbox state there: {existing} is a file, not a folder"
            )
        if not make_folder and existing != folder:
            raise StateFileError(f"{path}: the folder {folder} does not exist; create it first")
    except OSError as exc:  # e.g. a folder of the path that may not be searched
        raise StateFileError(f"{path}: cannot use it: {exc.strerror or exc}") from exc


def check_writable(path: Path) -> None:
    """Refuse a state file whose folder does not let a file be written in it (the file
    is rewritten as a new file beside it, then renamed over it). Raises StateFileError."""
    import tempfile

    folder = Path(path).parent
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StateFileError(
            f"{path}: cannot write the sandbox state in {folder}: {exc.strerror or exc}"
        ) from exc


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
    def from_json(cls, data: Any, where: str = "audio") -> AudioInfo:
        """Raises ValueError (saying which field, where) for a malformed entry."""
        size = _field(data, "size", where)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise _BadRecord(f"{where}.size: not a whole number of bytes")
        return cls(
            filename=_text(data, "filename", where),
            size=size,
            sha256=_text(data, "sha256", where),
            content_type=_optional_text(data, "contentType", where) or "",
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
    def from_json(cls, data: Any, where: str = "clone") -> CloneRecord:
        """Raises ValueError (saying which field, where) for a malformed entry."""
        record_id = _text(data, "_id", where)
        voice_id = _text(data, "voiceId", where)
        display_name = _text(data, "displayName", where)
        created = _number(data, "createdEpoch", where)
        try:
            iso_ms(created)  # what every list shows as createdAt
        except (OverflowError, ValueError, OSError):
            raise _BadRecord(f"{where}.createdEpoch: not a time (seconds since 1970)") from None
        outcome = _optional_text(data, "outcome", where) or "completed"
        if outcome not in ("completed", "failed"):
            raise _BadRecord(f"{where}.outcome: neither 'completed' nor 'failed'")
        return cls(
            record_id=record_id,
            voice_id=voice_id,
            display_name=display_name,
            description=_optional_text(data, "description", where),
            accent=_optional_text(data, "accent", where),
            tags=_texts(data, "tags", where) or [],
            language=_optional_text(data, "language", where),
            cloning_type=_optional_text(data, "cloningType", where) or "instant",
            model_ids=_texts(data, "modelIds", where) or [CURRENT_MODEL],
            legacy=bool(data.get("legacy", False)),
            created_epoch=created,
            ready_epoch=_number(data, "readyEpoch", where, default=created),
            outcome=outcome,
            listed_epoch=_number(data, "listedEpoch", where, default=created),
            audio=AudioInfo.from_json(_field(data, "audio", where), f"{where}.audio"),
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
        if self.path is not None:
            check_place(self.path)
            if self.path.exists():
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
        """Read the state file; anything unreadable or malformed is one StateFileError
        line saying what and where in the file (nothing of it is loaded then)."""
        assert self.path is not None
        try:
            self._load_records(self._read())
        except ValueError as exc:
            self.orgs.clear()
            raise StateFileError(
                f"{self.path}: cannot read the sandbox state: {exc}; delete it to start "
                "the sandbox afresh (it holds only emulated clones)"
            ) from exc

    def _read(self) -> Any:
        assert self.path is not None
        try:
            text = self.path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise StateFileError(
                f"{self.path}: cannot read the sandbox state: {exc.strerror or exc}"
            ) from exc
        except UnicodeDecodeError:
            raise ValueError("not UTF-8 text") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        except RecursionError:
            raise ValueError("nested too deeply to be a sandbox state file") from None

    def _load_records(self, data: Any) -> None:
        version = data.get("version") if isinstance(data, dict) else None
        if type(version) is not int or version != STATE_VERSION:
            raise ValueError(f"not a version {STATE_VERSION} sandbox state file")
        orgs = data.get("orgs") or {}
        if not isinstance(orgs, dict):
            raise _BadRecord("orgs: not an object")
        now_epoch, now_mono = time.time(), time.monotonic()
        for org_id, org_data in orgs.items():
            where = f"orgs[{json.dumps(org_id)}]"
            if org_data is not None and not isinstance(org_data, dict):
                raise _BadRecord(f"{where}: not an object")
            clones = (org_data or {}).get("clones") or []
            if not isinstance(clones, list):
                raise _BadRecord(f"{where}.clones: not a list")
            org = self.org(str(org_id))
            for n, raw in enumerate(clones):
                clone = CloneRecord.from_json(raw, f"{where}.clones[{n}]")
                clone.anchor(now_epoch, now_mono)
                org.clones[clone.voice_id] = clone
