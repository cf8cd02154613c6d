"""``Measurement``: the plain numbers measured in a sample, and the method's constants.

No numpy here, so the cache (cache.py) and the policy (quality.py) work on
cached measurements without the ``quality`` extra; measure.py computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import isfinite
from typing import Any

FRAME_SECONDS = 0.02
NOISE_PERCENTILE = 10
SPEECH_PERCENTILE = 95
SPEECH_ABOVE_FLOOR = 12.0  # dB
SPEECH_BELOW_PEAK = 20.0  # dB
SILENCE_DBFS = -60.0
DIGITAL_SILENCE = 1.0 / 32768
BRIDGE_SECONDS = 0.3
CLIP_LEVEL = 0.98  # of full scale (-0.18 dBFS)
FLOOR_DB = -120.0  # what "no signal at all" reads as, so numbers stay finite


@dataclass(frozen=True)
class Measurement:
    """Plain numbers about one sample (seconds, dB, percent); JSON-safe."""

    seconds: float  # decoded length
    rate: int
    channels: int
    codec: str
    speech_seconds: float
    silent_seconds: float  # near-silent frames in total
    longest_silence: float  # the longest run of near-silent frames inside the speech
    longest_silence_at: float  # where it starts
    digital_silence_seconds: float
    clipped_percent: float  # of the samples, in flat-top runs at full scale
    clipped_runs: int
    longest_clip_run: int  # samples
    peak_dbfs: float
    rms_dbfs: float
    loudness_lufs: float  # FLOOR_DB when every block is gated out
    noise_dbfs: float
    speech_dbfs: float
    snr_db: float

    def to_json(self) -> dict[str, Any]:
        # Every field is a plain number or text: no deep copy (dataclasses.asdict's)
        # needed, and a 10,000-sample first run makes 10,000 of these.
        return {name: getattr(self, name) for name in _ORDER}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        """The Measurement ``to_json`` wrote; ValueError for anything else (a cache
        entry edited by hand or by another tool must be measured again, not trusted:
        a text ``seconds`` would fail in the policy's arithmetic, a NaN pass it)."""
        if data.keys() != _NAMES:
            raise ValueError("not a Measurement")
        # Plain type checks, no validation library: a 10,000-voice plan reads 10,000
        # of these. type() is exact: a bool is not a number here, nor is NaN.
        for name in _REALS:
            value = data[name]
            if type(value) not in _NUMBERS or not isfinite(value):
                raise ValueError(f"not a Measurement: {name} is not a number")
        for name in _INTS:
            if type(data[name]) is not int:
                raise ValueError(f"not a Measurement: {name} is not a whole number")
        for name in _TEXTS:
            if type(data[name]) is not str:
                raise ValueError(f"not a Measurement: {name} is not text")
        # What cls(**data) makes, without the frozen __init__'s object.__setattr__ per
        # field (a 10,000-voice plan reads 10,000 of these from the analysis cache).
        made = object.__new__(cls)
        made.__dict__.update(data)
        return made


_ORDER = tuple(f.name for f in fields(Measurement))
_NAMES = frozenset(_ORDER)
# each field by its annotation (text: the module has postponed annotations)
_REALS = tuple(f.name for f in fields(Measurement) if f.type in ("float", float))
_INTS = tuple(f.name for f in fields(Measurement) if f.type in ("int", int))
_TEXTS = tuple(f.name for f in fields(Measurement) if f.type in ("str", str))
_NUMBERS = (float, int)
assert len(_REALS) + len(_INTS) + len(_TEXTS) == len(_ORDER), "a field of another type"
