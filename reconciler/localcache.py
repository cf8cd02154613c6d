"""Small JSON caches in the project's ``.voicectl/`` folder, never trusted over the files.

A cache only saves work: a missing, corrupt, foreign-version or unwritable
cache file is the same as an empty one, and a cache write that fails is
ignored (the command's own result never depends on it).

* :class:`JsonCache` - a key -> JSON value map in one file, loaded once,
  written atomically at the end only if it changed. For example, a sample
  analysis cached by the sample's sha256::

      cache = JsonCache(cache_path(project_folder, "sample-analysis.json"), version=1)
      found = cache.get(sha256)  # None when absent
      cache.put(sha256, {"snr": 31.5})
      cache.save()

* :class:`HashCache` - the sha256 of sample files, keyed by path and trusted only
  while the file's size, mtime, ctime and inode are what they were when it was
  hashed (so a 1,000-voice repository of 5 MB samples is not re-read on every
  plan). A file modified less than :data:`RACY_SECONDS` before it was hashed is
  not cached: a second write within the clock's granularity could keep its
  mtime (git's "racily clean" problem). An entry that is not what this class
  writes (a sha256 that is not 64 hex digits, facts of the wrong type) is a miss:
  the file is read again and the entry rewritten.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.fsutil import atomic_write, read_regular

CACHE_DIR = ".voicectl"
RACY_SECONDS = 2.0
_SHA256 = re.compile(r"[0-9a-f]{64}")  # fullmatch: a $ would let a newline through


def cache_path(folder: Path, name: str) -> Path:
    """``folder/.voicectl/name``: where the cache ``name`` of a project lives."""
    return Path(folder) / CACHE_DIR / name


class JsonCache:
    """A key -> JSON value map in ``path`` (``{"version": N, "entries": {...}}``)."""

    def __init__(self, path: Path, *, version: int = 1):
        self.path = Path(path)
        self.version = version
        self._entries: dict[str, Any] | None = None
        self._changed = False

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            # unreadable, not JSON, or past the parser's limits (nested too deeply, a
            # 5000-digit number): a miss
            with contextlib.suppress(OSError, ValueError, RecursionError):
                data = json.loads(read_regular(self.path))
                if (
                    isinstance(data, dict)
                    and data.get("version") == self.version
                    and isinstance(data.get("entries"), dict)
                ):
                    self._entries = data["entries"]
        return self._entries

    def get(self, key: str) -> Any | None:
        return self._load().get(key)

    def put(self, key: str, value: Any) -> None:
        entries = self._load()
        if entries.get(key) != value:
            entries[key] = value
            self._changed = True

    def drop(self, key: str) -> None:
        if self._load().pop(key, None) is not None:
            self._changed = True

    def save(self) -> bool:
        """Write the cache if it changed; False (and nothing raised) when it cannot be."""
        if not self._changed:
            return False
        text = json.dumps(
            {"version": self.version, "entries": self._load()},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        try:
            atomic_write(self.path, text + "\n")
        except OSError:
            return False
        self._changed = False
        return True


def _key(path: Path) -> str:
    """A file's cache key: its absolute path (the loader's paths are absolute already)."""
    text = os.fspath(path)
    return text if os.path.isabs(text) and "/." not in text else os.path.abspath(text)


def _plausible_facts(facts: Any) -> bool:
    """Facts as the sample check remembers them (reconciler.audio.sample): the
    format's name and a finite duration in seconds (a bool is not a number)."""
    if not isinstance(facts, dict) or not isinstance(facts.get("format"), str):
        return False
    duration = facts.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, (float, int)):
        return False
    return math.isfinite(duration)


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class HashCache:
    """sha256 of files, remembered while each file's stat stamp is unchanged."""

    def __init__(
        self,
        folder: Path,
        *,
        hasher: Callable[[Path], str],
        name: str = "sample-hashes.json",
        clock: Callable[[], float] = time.time,
    ):
        self.cache = JsonCache(cache_path(folder, name), version=1)
        self.hasher = hasher
        self.clock = clock
        self.hits = 0
        self.misses = 0

    def known(self, path: Path, st: os.stat_result) -> dict[str, Any] | None:
        """What was remembered of the file while it had this stat (None: nothing, or
        an entry not of the shape :meth:`sha256` writes)."""
        found = self.cache.get(_key(path))
        if not (isinstance(found, dict) and found.get("stamp") == _stamp(st)):
            return None
        sha = found.get("sha256")
        if not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
            return None  # a digest that is not one would reach the lockfile
        facts = found.get("facts")
        if facts is not None and not _plausible_facts(facts):
            return None
        return found

    def sha256(self, path: Path, *, facts: dict[str, Any] | None = None) -> str:
        """The file's sha256: from the cache when its stamp matches, else read and hashed.

        ``facts`` (the sample's format and duration: ``{"format": "wav", "duration":
        8.0}``) are remembered with it, under the same stamp, for :meth:`known`.
        """
        key = _key(path)
        before = os.stat(path)
        found = self.known(path, before)
        if found is not None and isinstance(found.get("sha256"), str):
            self.hits += 1
            if facts is not None and found.get("facts") != facts:
                self.cache.put(key, {**found, "facts": facts})
            return found["sha256"]
        self.misses += 1
        digest = self.hasher(path)
        after = os.stat(path)
        stable = _stamp(after) == _stamp(before)
        if stable and self.clock() - after.st_mtime_ns / 1e9 >= RACY_SECONDS:
            entry: dict[str, Any] = {"stamp": _stamp(after), "sha256": digest}
            if facts is not None:
                entry["facts"] = facts
            self.cache.put(key, entry)
        else:
            self.cache.drop(key)
        return digest

    def save(self) -> bool:
        return self.cache.save()
