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
    todo = [
        (r, s, s.file_sha256, doc)
        for r, s, doc in voices
        if s is not None and s.file_sha256 and doc is not None
    ]
    if not todo:
        return
    # The decoder (PyAV and numpy, ~0.15 s to import) is needed only for samples the
    # analysis cache has not measured: a plan of unchanged samples never loads it.
    uncached = any(cache.get(sha) is None for _, _, sha, _ in todo)
    missing = decoder_missing() if uncached else None
    if missing is not None:
        report.note(f"sample quality checks skipped: {missing} (`{INSTALL_HINT}` enables them)")
        return
    top = _valid(QualityDocument, data.get("quality") or {})
    if top is None:
        return  # reported by the document's validation
    base = _limits(QualityLimits(), top)
    measured = analyse(((s.file, sha) for _, s, sha, _ in todo), cache)
    for voice_report, spec, sha, voice in todo:
        _report_one(voice_report, spec, voice, measured[sha], base)


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
