"""The analysis cache: each sample's Measurement, keyed by the sample's sha256.

Kept in ``.voicectl/sample-analysis.json`` beside the manifest (a
``localcache.JsonCache``: loaded once, written atomically at the end only when
it changed, never trusted over the files), so an unchanged sample is never
decoded twice, whatever its name or path; the sha256 is the one the manifest
loader computes anyway (itself cached by path and stat in
``.voicectl/sample-hashes.json``). The policy (quality.py) is applied after the
cache, so changing a limit needs no decode. An entry that does not read as a
Measurement of this ``ANALYSIS_VERSION`` (every field there, each of its type)
counts as absent: it is measured again and rewritten, never trusted.
"""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.audio.measurement import Measurement
from reconciler.localcache import JsonCache, cache_path

ANALYSIS_VERSION = 1
FILE_NAME = "sample-analysis.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AnalysisCache:
    """Measurements by sample sha256 in ``path`` (None: a cache that keeps nothing)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._cache = JsonCache(path, version=ANALYSIS_VERSION) if path is not None else None
        self._read: dict[str, Measurement | str | None] = {}  # get()'s answers, parsed once

    @classmethod
    def beside(cls, manifest_root: Path) -> AnalysisCache:
        return cls(cache_path(manifest_root, FILE_NAME))

    def get(self, sha256: str) -> Measurement | str | None:
        """The cached Measurement, the cached decode error (text), or None."""
        if sha256 in self._read:
            return self._read[sha256]
        found = self._get(sha256)
        self._read[sha256] = found
        return found

    def _get(self, sha256: str) -> Measurement | str | None:
        if self._cache is None or not _SHA256.match(sha256):
            return None
        entry = self._cache.get(sha256)
        if not isinstance(entry, dict):
            return None
        if isinstance(entry.get("error"), str):
            return entry["error"]
        try:
            return Measurement.from_json(entry)
        except (TypeError, ValueError):
            # dropped, so the new measurement is written even where it compares equal
            # to the entry (Python's True == 1: "channels": true would stay)
            self._cache.drop(sha256)
            return None

    def put(self, sha256: str, result: Measurement | str) -> None:
        if self._cache is None or not _SHA256.match(sha256):
            return
        self._read.pop(sha256, None)
        self._cache.put(sha256, {"error": result} if isinstance(result, str) else result.to_json())

    def save(self) -> None:
        """Write what changed (best effort: a cache that cannot be written is not kept)."""
        if self._cache is not None:
            self._cache.save()
