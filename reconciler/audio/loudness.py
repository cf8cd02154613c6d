"""Integrated loudness (ITU-R BS.1770-4, LUFS) of decoded PCM, with numpy alone.

The K-weighting (a high shelf near 1.7 kHz and a high pass near 38 Hz) is the
standard's two biquads, designed for the file's own rate with the formulas of
Brecht De Man's "Evaluation of implementations of loudness models" (which give
the standard's 48 kHz table exactly) and applied in the frequency domain: one
FFT of the zero-padded signal (to a length with small factors) times the
biquads' response, so no sample loop and no scipy. Then the standard's gating:
400 ms blocks every 100 ms, an absolute gate at -70 LUFS and a relative gate
10 LU below the level of the blocks kept.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

BLOCK_SECONDS = 0.4
STEP_SECONDS = 0.1
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0

_SHELF = (1681.974450955533, 3.999843853973347, 0.7071752369554196)  # f0, gain dB, Q
_HIGH_PASS = (38.13547087602444, 0.5003270373238773)  # f0, Q


def k_weighting(rate: int) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """The two K-weighting biquads at ``rate`` as ((b0, b1, b2), (1, a1, a2)) pairs."""
    f0, gain, q = _SHELF
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0),
        (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0),
    )
    f0, q = _HIGH_PASS
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    high_pass = ((1.0, -2.0, 1.0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0))
    return [shelf, high_pass]


@lru_cache(maxsize=8)
def _response(rate: int, n: int) -> Any:
    """The K-weighting's complex response on the bins of an ``n``-point rfft
    (samples mostly share a rate and a length, so it is kept).

    Both biquads as one ratio of 4th-degree polynomials in ``z = e^{-jw}``, each
    evaluated by Horner's rule in place; the ``z`` come from two short tables
    (``e^{-j(qW + r)d} = e^{-jqWd} e^{-jrd}``): an ``exp`` per bin was most of the
    cost, and a sample at a rate of its own (a response of its own) is common.
    """
    (b, a), (hb, ha) = k_weighting(rate)
    top, bottom = np.convolve(b, hb), np.convolve(a, ha)
    z = _unit_circle(n // 2 + 1)
    num, den = np.full_like(z, top[-1]), np.full_like(z, bottom[-1])
    for t, d in zip(top[-2::-1], bottom[-2::-1]):
        num *= z
        num += t
        den *= z
        den += d
    num /= den
    return num.astype(np.complex64)


def _unit_circle(bins: int) -> Any:
    """``e^{-jw}`` for ``bins`` frequencies ``w`` evenly from 0 to pi (both included)."""
    step = math.pi / max(1, bins - 1)
    width = math.isqrt(bins) + 1
    coarse = np.exp(-1j * step * width * np.arange(-(-bins // width)))
    fine = np.exp(-1j * step * np.arange(width))
    return np.multiply.outer(coarse, fine).ravel()[:bins]


@lru_cache(maxsize=256)
def fft_length(minimum: int) -> int:
    """The smallest even ``2^a 3^b 5^c`` >= ``minimum``: a length numpy's FFT does as
    fast, and often a third shorter than the next power of two (kept: samples of
    one length and rate ask for the same one)."""
    best = 1 << max(1, minimum - 1).bit_length()
    threes = 2  # even: the irfft gives back the rfft's length
    while threes < best:
        fives = threes
        while fives < best:
            length = fives
            while length < minimum:
                length *= 2
            best = min(best, length)
            fives *= 5
        threes *= 3
    return best


def k_weighted(samples: Any, rate: int) -> Any:
    """``samples`` (channels, frames) through the K-weighting filter."""
    frames = samples.shape[1]
    n = fft_length(frames + rate // 2)  # room for the filters' tails
    spectrum = np.fft.rfft(samples.astype(np.float32, copy=False), n=n, axis=1)
    return np.fft.irfft(spectrum * _response(rate, n), n=n, axis=1)[:, :frames]


def integrated_loudness(samples: Any, rate: int) -> float:
    """BS.1770-4 integrated loudness in LUFS; ``-inf`` when every block is gated out.

    Channels are weighted 1 (mono, stereo); surround weights do not matter for a
    voice sample.
    """
    block, step = round(BLOCK_SECONDS * rate), round(STEP_SECONDS * rate)
    frames = samples.shape[1]
    if frames < block:
        return -math.inf
    weighted = k_weighted(samples, rate)
    squares = np.cumsum(weighted.astype(np.float64) ** 2, axis=1)  # float64: quiet blocks
    cumulative = np.concatenate([np.zeros((weighted.shape[0], 1)), squares], axis=1)
    starts = np.arange(0, frames - block + 1, step)
    power = ((cumulative[:, starts + block] - cumulative[:, starts]) / block).sum(axis=0)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(power)
    kept = power[loudness > ABSOLUTE_GATE]
    if kept.size == 0:
        return -math.inf
    relative = -0.691 + 10 * math.log10(kept.mean()) + RELATIVE_GATE
    with np.errstate(divide="ignore"):
        kept = kept[-0.691 + 10 * np.log10(kept) > relative]
    return -0.691 + 10 * math.log10(kept.mean()) if kept.size else -math.inf
