"""The quality policy: which measurements make a finding, at which limits.

``QualityLimits`` holds every limit (the defaults are chosen so that clean
speech, such as the example samples, passes with no finding; the README says
why each is where it is), ``findings`` turns one ``Measurement`` into errors and
warnings that carry the measured number and the limit. Each finding has a
``kind`` from ``KINDS``, the word a voice writes in ``allowQuality`` to accept it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from reconciler.audio.measurement import FLOOR_DB, SILENCE_DBFS, Measurement

KINDS = ("speech", "padding", "silence", "clipping", "loudness", "noise", "samplerate", "decode")


@dataclass(frozen=True)
class QualityLimits:
    """Every limit of the quality checks; the manifest's ``quality:`` keys in camelCase."""

    min_speech_seconds: float = 3.0  # error below
    padded_speech_seconds: float = 5.0  # warning below (mostly padding) ...
    min_speech_percent: float = 60.0  # ... or when less of the file than this is speech
    max_silence_seconds: float = 2.0  # warning: a longer silence inside the speech
    max_clipping_percent: float = 0.1  # warning above
    error_clipping_percent: float = 1.0  # error above
    min_loudness: float = -35.0  # LUFS, warning below
    error_loudness: float = -50.0  # LUFS, error below
    max_loudness: float = -8.0  # LUFS, warning above
    min_snr: float = 20.0  # dB, warning below
    min_sample_rate: int = 16000  # Hz, warning below

    def updated(self, values: dict[str, Any]) -> QualityLimits:
        """These limits with ``values`` (snake_case names, None = keep) put over them."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


LIMIT_NAMES = tuple(f.name for f in fields(QualityLimits))


@dataclass(frozen=True)
class Finding:
    kind: str
    error: bool  # False: a warning
    message: str  # without the file's name


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def _n(value: float) -> str:
    return f"{value:g}"


def findings(m: Measurement, limits: QualityLimits) -> list[Finding]:
    """Every finding about one measured sample, errors first."""
    found: list[Finding] = []
    if m.speech_seconds == 0 and m.silent_seconds >= m.seconds - 0.05:
        what = (
            "digital silence"
            if m.digital_silence_seconds >= m.seconds - 0.05
            else f"near-silence: nothing in it is louder than {SILENCE_DBFS:g} dBFS"
        )
        peak = "no signal" if m.peak_dbfs <= FLOOR_DB else f"its peak is {m.peak_dbfs:.1f} dBFS"
        return [Finding("silence", True, f"is silent, {_s(m.seconds)} of {what} ({peak})")]
    quiet = m.seconds - m.speech_seconds
    if m.speech_seconds < limits.min_speech_seconds:
        found.append(
            Finding(
                "speech",
                True,
                f"only {_s(m.speech_seconds)} of speech (needs {_n(limits.min_speech_seconds)} s); "
                f"{_s(quiet)} of the {_s(m.seconds)} file is silence",
            )
        )
    else:
        percent = 100.0 * m.speech_seconds / m.seconds if m.seconds else 0.0
        if m.speech_seconds < limits.padded_speech_seconds or percent < limits.min_speech_percent:
            found.append(
                Finding(
                    "padding",
                    False,
                    f"mostly padding: {_s(m.speech_seconds)} of speech in the {_s(m.seconds)} "
                    f"file ({percent:.0f}%); wants at least {_n(limits.padded_speech_seconds)} s "
                    f"and {_n(limits.min_speech_percent)}% speech",
                )
            )
    if m.clipped_percent > limits.error_clipping_percent or (
        m.clipped_percent > limits.max_clipping_percent
    ):
        error = m.clipped_percent > limits.error_clipping_percent
        limit = limits.error_clipping_percent if error else limits.max_clipping_percent
        found.append(
            Finding(
                "clipping",
                error,
                f"clipped: {m.clipped_percent:.2f}% of the samples are at full scale, in "
                f"{m.clipped_runs} flat runs (the longest {m.longest_clip_run} samples); "
                f"allowed {_n(limit)}%",
            )
        )
    if m.loudness_lufs < limits.min_loudness:
        error = m.loudness_lufs < limits.error_loudness
        limit = limits.error_loudness if error else limits.min_loudness
        found.append(
            Finding(
                "loudness",
                error,
                f"too quiet: {m.loudness_lufs:.1f} LUFS (needs at least {_n(limit)} LUFS)",
            )
        )
    elif m.loudness_lufs > limits.max_loudness:
        found.append(
            Finding(
                "loudness",
                False,
                f"too loud: {m.loudness_lufs:.1f} LUFS (at most {_n(limits.max_loudness)} LUFS)",
            )
        )
    if m.snr_db < limits.min_snr:
        found.append(
            Finding(
                "noise",
                False,
                f"noisy: estimated SNR {m.snr_db:.1f} dB (speech at {m.speech_dbfs:.1f} dBFS "
                f"over a noise floor of {m.noise_dbfs:.1f} dBFS; needs {_n(limits.min_snr)} dB)",
            )
        )
    if m.longest_silence > limits.max_silence_seconds:
        found.append(
            Finding(
                "silence",
                False,
                f"a {_s(m.longest_silence)} silence at {_s(m.longest_silence_at)} "
                f"(at most {_n(limits.max_silence_seconds)} s inside the speech)",
            )
        )
    if m.rate < limits.min_sample_rate:
        found.append(
            Finding(
                "samplerate",
                False,
                f"sampled at {m.rate} Hz (below {limits.min_sample_rate} Hz): telephone-band "
                "audio clones as telephone audio",
            )
        )
    return sorted(found, key=lambda f: not f.error)
