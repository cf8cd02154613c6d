"""The manifest's quality step: measure every voice's sample, report its findings.

After the files passed their header checks (files.py), each distinct sample is
measured once (audio.analyse: the analysis cache beside the manifest, then the
misses decoded concurrently) and the policy (audio.quality) is applied with the
voice's limits: the defaults, the manifest's top-level ``quality:``, then the
voice's own ``quality:``. Findings a voice lists in ``allowQuality`` are not
reported; the rest are errors or warnings at the voice's ``file`` value. Without
the decoder (the ``quality`` extra) one note says that the checks were skipped
and how to enable them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reconciler.audio.analyse import analyse
from reconciler.audio.cache import AnalysisCache
from reconciler.audio.decode import INSTALL_HINT, decoder_missing
from reconciler.audio.measurement import Measurement
from reconciler.audio.quality import QualityLimits, findings
from reconciler.manifest.models import QualityDocument, VoiceDocument
from reconciler.manifest.report import _Report
from reconciler.manifest.spec import VoiceSpec


def _limits(base: QualityLimits, doc: QualityDocument | None) -> QualityLimits:
    return base.updated(doc.model_dump()) if doc is not None else base


def _valid(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValueError:
        return None


def check_quality(
    voices: list[tuple[_Report, VoiceSpec | None, VoiceDocument | None]],
    data: dict[str, Any],
    report: _Report,
    cache: AnalysisCache,
) -> None:
    """Report the quality findings of every resolved voice's sample.

    ``voices`` holds each voice's report (its file's), its spec (None: it has
    problems already) and its validated document; ``data`` is the manifest (its
    top-level ``quality``), ``report`` the manifest's own (for the note).
    """
    start_quality(voices, data, report, cache, background=False).finish()


@dataclass(frozen=True)
class PendingQuality:
    """The quality step under way: ``finish()`` waits for the measurements and reports
    their findings; ``stop()`` starts no further sample (a run being interrupted)."""

    finish: Callable[[], None]
    stop: Callable[[], None]
    running: bool = False  # measuring on a thread now (else finish() does not wait)


def _nothing() -> None:
    return None


NOTHING_PENDING = PendingQuality(finish=_nothing, stop=_nothing)


def start_quality(
    voices: list[tuple[_Report, VoiceSpec | None, VoiceDocument | None]],
    data: dict[str, Any],
    report: _Report,
    cache: AnalysisCache,
    *,
    background: bool = True,
) -> PendingQuality:
    """Start measuring the samples (check_quality's arguments).

    With ``background``, when some sample is not in the analysis cache, the
    measuring (importing the decoder, the cache's misses) runs on a thread of its
    own, so the caller can do something else meanwhile (plan and apply send their
    list); the findings are reported by its ``finish()``, on the caller's thread,
    into the same reports.
    """
    todo = [
        (r, s, s.file_sha256, doc)
        for r, s, doc in voices
        if s is not None and s.file_sha256 and doc is not None
    ]
    if not todo:
        return NOTHING_PENDING
    top = _valid(QualityDocument, data.get("quality") or {})  # None: reported already

    # The decoder (PyAV and numpy, ~0.15 s to import) is needed only for samples the
    # analysis cache has not measured: a plan of unchanged samples never loads it.
    uncached = any(cache.get(sha) is None for _, _, sha, _ in todo)
    stopped = threading.Event()

    def measure() -> dict[str, Measurement | str] | str:
        """sha256 -> measurement, or why the checks are skipped (no decoder)."""
        missing = decoder_missing() if uncached else None
        if missing is not None or top is None:
            return missing or {}
        return analyse(((s.file, sha) for _, s, sha, _ in todo), cache, stop=stopped)

    running = background and uncached  # all cached: read at once, no thread to wait for
    pending: Future[dict[str, Measurement | str] | str]
    if running:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voicectl-quality")
        pending = pool.submit(measure)
        pool.shutdown(wait=False)  # its one thread ends with the measuring
    else:
        pending = Future()
        pending.set_result(measure())

    def finish() -> None:
        measured = pending.result()  # the measuring's own exception, if it raised
        if isinstance(measured, str):
            report.note(
                f"sample quality checks skipped: {measured} (`{INSTALL_HINT}` enables them)"
            )
            return
        if top is None:
            return
        base = _limits(QualityLimits(), top)
        for voice_report, spec, sha, voice in todo:
            _report_one(voice_report, spec, voice, measured[sha], base)

    return PendingQuality(finish=finish, stop=stopped.set, running=running)


def _report_one(
    report: _Report,
    spec: VoiceSpec,
    voice: VoiceDocument,
    result: Measurement | str,
    base: QualityLimits,
) -> None:
    path = ("voices", spec.name, "file")
    allowed = set(voice.allow_quality or ())
    if isinstance(result, str):
        if "decode" not in allowed:
            report.warn(
                path,
                f"{spec.file_rel}: its audio {result}, so its quality was not checked "
                "(allowQuality: [decode] accepts it)",
            )
        return
    for finding in findings(result, _limits(base, voice.quality)):
        if finding.kind in allowed:
            continue
        message = f"{spec.file_rel}: {finding.message}"
        if finding.error:
            report.error(path, f"{message} (allowQuality: [{finding.kind}] accepts it)")
        else:
            report.warn(path, message)
