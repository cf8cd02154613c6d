"""Measure many samples at once: the cache first, then the misses decoded concurrently.

``analyse`` takes (path, sha256) pairs and returns each sha256's ``Measurement``
(or the text of why it could not be decoded). Identical content is decoded
once; the misses run on a thread pool as wide as the machine (FFmpeg decodes
and numpy computes with the GIL released, so threads do scale). A small file
(under ``SMALL_FILE_BYTES``) is measured on the calling thread instead: its work
is a few hundred short numpy calls, so on a pool the threads mostly wait for the
GIL, and 1,000 small samples took half as long again on two threads as on one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from reconciler.audio.cache import AnalysisCache
from reconciler.audio.errors import AudioError
from reconciler.audio.measurement import Measurement
from reconciler.errors import UserError

SMALL_FILE_BYTES = 64 * 1024


def _default_workers() -> int:
    """The pool's width: ``VOICECTL_QUALITY_WORKERS`` if set, else the CPU count; a
    value that is not a whole number of 1 or more is refused (not silently ignored)."""
    raw = os.environ.get("VOICECTL_QUALITY_WORKERS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if workers < 1:
        raise UserError(
            f"VOICECTL_QUALITY_WORKERS={raw!r}: expected a whole number of 1 or more "
            "(how many samples are measured at once)"
        )
    return workers


def measure_file(path: Path, decode: Callable[[Path], Any] | None = None) -> Measurement | str:
    """Decode (with ``decode``, default decode.decode) and measure one file: its
    Measurement, or why it cannot be decoded."""
    from reconciler.audio.decode import decode as default_decode
    from reconciler.audio.measure import measure

    try:
        return measure((decode or default_decode)(path))
    except AudioError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


class AnalysisStopped(Exception):
    """``analyse`` was stopped before it measured every sample (what it measured is
    cached)."""


def analyse(
    samples: Iterable[tuple[Path, str]],
    cache: AnalysisCache,
    *,
    workers: int | None = None,
    decode: Callable[[Path], Any] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Measurement | str]:
    """sha256 -> Measurement (or decode error) for every sample, cached ones undecoded.

    ``workers`` bounds the pool (default: ``VOICECTL_QUALITY_WORKERS``, else the
    CPU count); ``decode`` replaces the decoder (default decode.decode). Once
    ``stop`` is set (or a Ctrl-C reaches the calling thread) no further sample is
    started: the ones being measured finish, are cached, and AnalysisStopped (or
    the KeyboardInterrupt) is raised, so an interrupted first run of a thousand
    samples does not go on measuring them all.
    """
    one = partial(measure_file, decode=decode)
    results: dict[str, Measurement | str] = {}
    missing: dict[str, Path] = {}
    for path, sha256 in samples:
        if sha256 in results or sha256 in missing:
            continue
        hit = cache.get(sha256)
        if hit is None:
            missing[sha256] = path
        else:
            results[sha256] = hit
    if not missing:
        return results
    measured = _measure_all(
        list(missing.values()), one, workers or _default_workers(), stop or threading.Event()
    )
    for sha256, result in zip(missing, measured):
        if result is not None:
            cache.put(sha256, result)
            results[sha256] = result
    cache.save()
    if any(result is None for result in measured):
        raise AnalysisStopped(f"stopped with {measured.count(None)} samples not measured")
    return results


def _measure_all(
    paths: list[Path], one: Callable[[Path], Measurement | str], workers: int, stop: threading.Event
) -> list[Measurement | str | None]:
    """``one`` of every path, in order: the large files on the pool, the small ones here;
    None for each one not started because ``stop`` was set."""

    def unless_stopped(path: Path) -> Measurement | str | None:
        return None if stop.is_set() else one(path)

    large = [i for i, path in enumerate(paths) if not _small(path)]
    width = max(1, min(len(large), workers))
    if width == 1:
        return [unless_stopped(path) for path in paths]
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="voicectl-audio") as pool:
        try:
            futures = {i: pool.submit(unless_stopped, paths[i]) for i in large}
            here = {i: unless_stopped(p) for i, p in enumerate(paths) if i not in futures}
            return [here[i] if i in here else futures[i].result() for i in range(len(paths))]
        except BaseException:  # a Ctrl-C here: the pool finishes what is in flight, no more
            stop.set()
            raise


def _small(path: Path) -> bool:
    try:
        return os.stat(path).st_size < SMALL_FILE_BYTES
    except OSError:
        return True  # measure_file says why it cannot be read
