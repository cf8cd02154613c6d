"""The analysis cache: one small JSON file per sample, named by its sha256.

``<manifest folder>/.voicectl/quality/<sha256>.json`` holds the ``Measurement``
of the sample with that content (or why it could not be decoded), so an
unchanged sample is never decoded twice, whatever its name or path. The
policy (quality.py) is applied after the cache, so changing a limit in the
manifest needs no new decode. An entry of another ``ANALYSIS_VERSION``, or one
that does not read, is ignored and rewritten: the cache is never trusted over
the file. Writes are a temp file renamed into place (no fsync: a lost entry
only costs one decode); a folder that cannot be written just means no cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path

from reconciler.audio.measurement import Measurement

ANALYSIS_VERSION = 1
FOLDER = Path(".voicectl") / "quality"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AnalysisCache:
    """Measurements by sample sha256 under ``folder`` (None: a cache that keeps nothing)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @classmethod
    def beside(cls, manifest_root: Path) -> AnalysisCache:
        return cls(manifest_root / FOLDER)

    def _path(self, sha256: str) -> Path | None:
        if self.folder is None or not _SHA256.match(sha256):
            return None
        return self.folder / f"{sha256}.json"

    def get(self, sha256: str) -> Measurement | str | None:
        """The cached Measurement, the cached decode error (text), or None."""
        path = self._path(sha256)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != ANALYSIS_VERSION:
                return None
            if isinstance(data.get("error"), str):
                return data["error"]
            return Measurement.from_json(data["measurement"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def put(self, sha256: str, result: Measurement | str) -> None:
        path = self._path(sha256)
        if path is None:
            return
        body: dict[str, object] = {"version": ANALYSIS_VERSION}
        if isinstance(result, str):
            body["error"] = result
        else:
            body["measurement"] = result.to_json()
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(body, fh, sort_keys=True)
                os.replace(tmp, path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
