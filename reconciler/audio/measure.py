"""What is in a decoded sample: speech, silence, clipping, level, noise.

``measure`` turns PCM into a ``Measurement`` (measurement.py) of plain numbers,
cached as JSON with the sample's sha256, so the policy in quality.py can change
without a decode. The method, in 20 ms frames of the mono mix:

* the noise floor is the 10th percentile of the frames' energy and the speech
  level the 95th: every recording has pauses between words, so the quietest
  tenth of it is the room, not the voice;
* a frame is speech when it is louder than the floor by ``SPEECH_ABOVE_FLOOR``
  dB (but never quieter than the speech level minus ``SPEECH_BELOW_PEAK`` dB,
  so a file without pauses counts as all speech, and never at or below
  ``SILENCE_DBFS``), and pauses up to ``BRIDGE_SECONDS`` between speech frames
  count as speech, as in any voice activity detector;
* the SNR estimate is the speech level minus the noise floor;
* near-silence is a frame below ``SILENCE_DBFS``; digital silence a frame
  whose every sample is within one 16-bit step of zero;
* clipping counts the samples at or next to full scale (``CLIP_LEVEL``) that
  sit in runs of two or more (a flat top), per channel;
* loudness is BS.1770 integrated loudness (loudness.py), besides RMS and peak.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reconciler.audio.decode import Pcm
from reconciler.audio.loudness import integrated_loudness
from reconciler.audio.measurement import (
    BRIDGE_SECONDS,
    CLIP_LEVEL,
    DIGITAL_SILENCE,
    FLOOR_DB,
    FRAME_SECONDS,
    NOISE_PERCENTILE,
    SILENCE_DBFS,
    SPEECH_ABOVE_FLOOR,
    SPEECH_BELOW_PEAK,
    SPEECH_PERCENTILE,
    Measurement,
)


def _db(power: Any) -> Any:
    with np.errstate(divide="ignore"):
        return np.maximum(10 * np.log10(power), FLOOR_DB)


def _percentiles(values: Any, percents: tuple[float, float]) -> tuple[float, float]:
    """``np.percentile(values, percents)`` of a 1-D float64 array (numpy's default
    "linear" method, the same arithmetic, so the same numbers to the bit).

    np.percentile goes through np.unique, whose first call imports numpy.ma (~10 ms
    per process on the 2-core machine), and costs ~50 us per call in checks this
    array does not need.
    """
    ordered = np.sort(values)
    last = ordered.size - 1
    if math.isnan(ordered[last]):  # a NaN sorts last; numpy's answer is NaN
        return math.nan, math.nan
    out = []
    for percent in percents:
        index = last * (percent / 100)
        if index >= last:
            out.append(float(ordered[last]))
            continue
        below = math.floor(index)
        low, high = float(ordered[below]), float(ordered[below + 1])
        weight = index - below
        step = high - low  # numpy's _lerp: from the nearer end
        out.append(high - step * (1 - weight) if weight >= 0.5 else low + step * weight)
    return out[0], out[1]


def _runs(mask: Any) -> tuple[Any, Any]:
    """Start indices and lengths of the runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return edges[::2], edges[1::2] - edges[::2]


def _bridge(active: Any, gap: int) -> Any:
    """``active`` with runs of False shorter than ``gap`` between two Trues made True."""
    starts, lengths = _runs(~active)
    out = active.copy()
    for start, length in zip(starts, lengths):
        if start > 0 and start + length < active.size and length <= gap:
            out[start : start + length] = True
    return out


def _clipping(samples: Any) -> tuple[int, int, int]:
    """(clipped samples, runs, longest run) over every channel."""
    total = runs = longest = 0
    for channel in samples:
        _, lengths = _runs(np.abs(channel) >= CLIP_LEVEL)
        flat = lengths[lengths >= 2]
        total += int(flat.sum())
        runs += int(flat.size)
        longest = max(longest, int(flat.max()) if flat.size else 0)
    return total, runs, longest


def measure(pcm: Pcm) -> Measurement:
    """Measure decoded audio (see the module docstring for the method)."""
    samples = pcm.samples
    rate = pcm.rate
    mono = samples.mean(axis=0, dtype=np.float64)
    frame = max(1, round(FRAME_SECONDS * rate))
    count = mono.size // frame
    seconds = mono.size / rate
    if count == 0:
        return _empty(pcm, seconds)
    frames = mono[: count * frame].reshape(count, frame)
    energy = _db((frames**2).mean(axis=1))
    noise, loud = _percentiles(energy, (NOISE_PERCENTILE, SPEECH_PERCENTILE))
    threshold = max(min(noise + SPEECH_ABOVE_FLOOR, loud - SPEECH_BELOW_PEAK), SILENCE_DBFS)
    speech = _bridge(energy > threshold, round(BRIDGE_SECONDS / FRAME_SECONDS))
    silent = energy <= SILENCE_DBFS
    # The longest near-silence inside the speech: leading and trailing padding is
    # the padding finding's business.
    inner = silent.copy()
    where = np.flatnonzero(speech)
    if where.size:
        inner[: where[0]] = False
        inner[where[-1] + 1 :] = False
    starts, lengths = _runs(inner)
    longest = int(lengths.argmax()) if lengths.size else -1
    digital = np.abs(frames).max(axis=1) <= DIGITAL_SILENCE
    clipped, runs, longest_run = _clipping(samples)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    lufs = integrated_loudness(samples, rate)
    return Measurement(
        seconds=round(seconds, 3),
        rate=rate,
        channels=pcm.channels,
        codec=pcm.codec,
        speech_seconds=round(float(speech.sum()) * frame / rate, 3),
        silent_seconds=round(float(silent.sum()) * frame / rate, 3),
        longest_silence=round(float(lengths[longest]) * frame / rate, 3) if longest >= 0 else 0.0,
        longest_silence_at=round(float(starts[longest]) * frame / rate, 3) if longest >= 0 else 0.0,
        digital_silence_seconds=round(float(digital.sum()) * frame / rate, 3),
        clipped_percent=round(100.0 * clipped / samples.size, 4) if samples.size else 0.0,
        clipped_runs=runs,
        longest_clip_run=longest_run,
        peak_dbfs=round(float(_db(peak * peak)), 2),
        rms_dbfs=round(float(_db((mono**2).mean())), 2),
        loudness_lufs=round(lufs if math.isfinite(lufs) else FLOOR_DB, 2),
        noise_dbfs=round(noise, 2),
        speech_dbfs=round(loud, 2),
        snr_db=round(loud - noise, 2),
    )


def _empty(pcm: Pcm, seconds: float) -> Measurement:
    return Measurement(
        seconds=round(seconds, 3),
        rate=pcm.rate,
        channels=pcm.channels,
        codec=pcm.codec,
        speech_seconds=0.0,
        silent_seconds=round(seconds, 3),
        longest_silence=0.0,
        longest_silence_at=0.0,
        digital_silence_seconds=round(seconds, 3),
        clipped_percent=0.0,
        clipped_runs=0,
        longest_clip_run=0,
        peak_dbfs=FLOOR_DB,
        rms_dbfs=FLOOR_DB,
        loudness_lufs=FLOOR_DB,
        noise_dbfs=FLOOR_DB,
        speech_dbfs=FLOOR_DB,
        snr_db=0.0,
    )
