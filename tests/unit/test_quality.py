"""Sample quality: each defect caught with its number, clean speech passes, in all formats.

The fixtures are made here: real speech (the espeak-ng examples) and defects made
from it (audio_support.py), written as wav with stdlib ``wave`` and encoded to
mp3, m4a and webm with PyAV. The checks run through ``load_manifest`` (and the
CLI), so the messages are the ones a user sees, at the voice's file:line.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import audio_support
import numpy as np
import pytest

from reconciler.audio import decode as decoder
from reconciler.audio.analyse import AnalysisStopped, analyse
from reconciler.audio.cache import ANALYSIS_VERSION, AnalysisCache
from reconciler.audio.loudness import integrated_loudness, k_weighting
from reconciler.audio.quality import KINDS, QualityLimits
from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ["wav", "mp3", "m4a", "webm"]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "samples").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sample(folder: Path, name: str, fmt: str = "wav") -> str:
    signal, rate = audio_support.defect(name)
    rel = f"samples/{name}.{fmt}"
    audio_support.write(folder / rel, signal, rate)
    return rel


def manifest(folder: Path, voices: dict[str, str], extra: str = "", voice_extra: str = "") -> Path:
    lines = ["version: 1", "defaults: {language: en}", *extra.splitlines(), "voices:"]
    for name, rel in voices.items():
        lines += [f"  {name}:", f"    file: {rel}"]
        lines += [f"    {line}" for line in voice_extra.splitlines()]
    path = folder / "voices.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def outcome(path: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of loading the manifest."""
    try:
        result = load_manifest(path)
    except ManifestError as exc:
        return exc.problems, exc.warnings  # type: ignore[attr-defined]
    return [], result.warnings


# ------------------------------------------------------------------ loudness (BS.1770)


def test_k_weighting_is_the_standards_filter_at_48_khz() -> None:
    # ITU-R BS.1770-4, tables 1 and 2.
    (shelf_b, shelf_a), (hp_b, hp_a) = k_weighting(48000)
    assert shelf_b == pytest.approx((1.53512485958697, -2.69169618940638, 1.19839281085285))
    assert shelf_a == pytest.approx((1.0, -1.69065929318241, 0.73248077421585))
    assert hp_b == (1.0, -2.0, 1.0)
    assert hp_a == pytest.approx((1.0, -1.99004745483398, 0.99007225036621))


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_a_minus_23_dbfs_stereo_sine_is_minus_23_lufs(rate: int) -> None:
    # EBU Tech 3341's first test: 1 kHz, -23 dBFS in both channels reads -23.0 LUFS.
    t = np.arange(rate * 5) / rate
    tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 997 * t)
    assert integrated_loudness(np.stack([tone, tone]), rate) == pytest.approx(-23.0, abs=0.1)
    # The absolute gate: 20 s of silence before it do not count (ungated they would
    # make it -30 LUFS); only the few blocks that straddle the start lower it a little.
    silence = np.zeros((2, rate * 20))
    assert integrated_loudness(np.concatenate([silence, np.stack([tone, tone])], axis=1), rate) == (
        pytest.approx(-23.0, abs=0.25)
    )
    assert integrated_loudness(np.zeros((1, rate)), rate) == -math.inf


def test_the_percentiles_are_numpys_to_the_bit() -> None:
    # measure._percentiles replaces np.percentile (which imports numpy.ma): the same
    # arithmetic, so a measurement (and the cache) does not change by one bit.
    from reconciler.audio.measure import _percentiles

    rng = np.random.default_rng(11)
    arrays = [np.array([5.0]), np.array([-120.0, -120.0]), np.array([1.0, np.nan, 2.0])]
    arrays += [np.maximum(rng.normal(-60, 30, int(n)), -120.0) for n in rng.integers(1, 300, 400)]
    arrays += [rng.choice([-120.0, -60.5, -3.25, 0.0], int(n)) for n in rng.integers(1, 50, 100)]
    for values in arrays:
        for percents in ((10.0, 95.0), (0.0, 100.0), tuple(rng.uniform(0, 100, 2))):
            want = [float(x) for x in np.percentile(values, percents)]
            got = list(_percentiles(values, percents))
            assert np.array_equal(got, want, equal_nan=True), (values, percents)


def test_measuring_a_sample_does_not_import_numpy_ma(tmp_path: Path) -> None:
    clean = tmp_path / "clean.wav"
    audio_support.write(clean, audio_support.speech(3.0))
    probe = (
        "import sys; from pathlib import Path; from reconciler.audio.analyse import measure_file;"
        f"r = measure_file(Path({str(clean)!r})); assert not isinstance(r, str), r;"
        "print('numpy' in sys.modules, 'numpy.ma' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split() == ["True", "False"], done.stderr


# ------------------------------------------------------------------ clean speech passes


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_speech_passes_with_no_warning(folder: Path, fmt: str) -> None:
    path = manifest(folder, {"narrator": sample(folder, "clean", fmt)})
    assert outcome(path) == ([], [])


def test_the_example_samples_pass_with_no_warning() -> None:
    result = load_manifest(ROOT / "voices.yaml.example")
    assert result.warnings == []


# ------------------------------------------------------------------ each defect caught

# defect -> (error?, the start of the message, a number it must carry)
DEFECTS = {
    "silence": (True, "is silent, 10.", "of digital silence"),
    "near-silence": (True, "is silent, 10.", "nothing in it is louder than -60 dBFS"),
    "short-speech": (True, "only 2.", "of speech (needs 3 s); 7."),
    "padded": (False, "mostly padding: 4.", "wants at least 5 s and 60% speech"),
    "clipped": (True, "clipped: ", "allowed 1%"),
    "quiet": (True, "too quiet: -59.", "(needs at least -50 LUFS)"),
    "noisy": (False, "noisy: estimated SNR 1", "needs 20 dB)"),
    "dropout": (False, "a 3.0 s silence at 5.", "(at most 2 s inside the speech)"),
    "telephone": (False, "sampled at 8000 Hz (below 16000 Hz)", "telephone audio"),
}


# Opus codes at 48 kHz whatever the input, so a webm file cannot show a telephone rate.
DEFECT_CASES = [
    (name, fmt) for name in DEFECTS for fmt in FORMATS if (name, fmt) != ("telephone", "webm")
]


@pytest.mark.parametrize(("name", "fmt"), DEFECT_CASES)
def test_each_defect_is_caught_with_its_number(folder: Path, name: str, fmt: str) -> None:
    rel = sample(folder, name, fmt)
    path = manifest(folder, {"v": rel})
    problems, warnings = outcome(path)
    error, start, carries = DEFECTS[name]
    if name == "silence" and fmt == "m4a":
        # AAC codes 10 s of digital silence in 2 KB: the header check refuses it first.
        assert problems == [
            f"voices.yaml:5:11: voices.v.file: {rel} looks truncated: its "
            "header says 10.1 s, but 2088 bytes cannot hold that much audio"
        ]
        return
    if name == "clipped" and fmt == "m4a":
        # AAC rounds the flat tops off: less is left at full scale, still over the warning.
        error, carries = False, "allowed 0.1%"
    found = problems if error else warnings
    prefix = f"voices.yaml:5:11: voices.v.file: {rel}: {start}"
    ours = [line for line in found if line.startswith(prefix)]
    assert ours, (problems, warnings)
    assert carries in ours[0]
    if error:
        assert ours[0].endswith("accepts it)")
    others = [line for line in [*problems, *warnings] if line not in ours]
    assert others == [] or name in ("clipped", "short-speech", "quiet", "silence", "near-silence")


def test_the_message_reads_as_the_issue_asks(folder: Path) -> None:
    rel = sample(folder, "short-speech")
    path = manifest(folder, {"narrator": rel})
    problems, _ = outcome(path)
    assert problems == [
        f"voices.yaml:5:11: voices.narrator.file: {rel}: only 2.6 s of speech (needs 3 s); "
        "7.4 s of the 10.0 s file is silence (allowQuality: [speech] accepts it)"
    ]


def test_clipping_carries_its_share_and_runs(folder: Path) -> None:
    rel = sample(folder, "clipped")
    problems, warnings = outcome(manifest(folder, {"v": rel}))
    (line,) = [p for p in problems if "clipped:" in p]
    share = float(line.split("clipped: ")[1].split("%")[0])
    assert share > 1.0
    assert "flat runs (the longest " in line


# ------------------------------------------------------------------ the manifest's limits


def test_top_level_limits_apply_to_every_voice(folder: Path) -> None:
    noisy, tel = sample(folder, "noisy"), sample(folder, "telephone")
    path = manifest(folder, {"a": noisy, "b": tel}, "quality: {minSnr: 10, minSampleRate: 8000}")
    assert outcome(path) == ([], [])


def test_a_voice_limit_is_put_over_the_top_level_one(folder: Path) -> None:
    rel = sample(folder, "padded")  # 4.0 s of speech in 10 s
    path = manifest(
        folder,
        {"a": rel},
        "quality: {paddedSpeechSeconds: 3, minSpeechPercent: 30}",
        "quality: {minSpeechSeconds: 4.5}",
    )
    problems, warnings = outcome(path)
    assert warnings == []
    assert problems == [
        f"voices.yaml:6:11: voices.a.file: {rel}: only 4.0 s of speech (needs 4.5 s); "
        "6.0 s of the 10.0 s file is silence (allowQuality: [speech] accepts it)"
    ]


def test_a_bad_limit_is_a_positioned_error(folder: Path) -> None:
    rel = sample(folder, "clean")
    path = manifest(folder, {"a": rel}, "quality: {minSnr: loud, maxSilence: 3}")
    problems, _ = outcome(path)
    assert problems[0].startswith("voices.yaml:3:19: quality.minSnr: expected a number")
    assert problems[1] == (
        "voices.yaml:3:25: quality.maxSilence: unknown field 'maxSilence' "
        "(did you mean 'maxSilenceSeconds'?)"
    )


def test_limit_names_and_kinds_are_documented(folder: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    for name in QualityLimits.__dataclass_fields__:
        camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
        assert f"`{camel}`" in readme, camel
    for kind in KINDS:
        assert f"`{kind}`" in readme, kind


# ------------------------------------------------------------------ allowQuality


def test_allow_quality_accepts_a_finding_on_purpose(folder: Path) -> None:
    rel = sample(folder, "clipped")
    problems, warnings = outcome(manifest(folder, {"v": rel}))
    assert any("clipped:" in p for p in problems)
    kinds = "allowQuality: [clipping, loudness]"
    assert outcome(manifest(folder, {"v": rel}, voice_extra=kinds)) == ([], [])


def test_allow_quality_takes_only_known_kinds(folder: Path) -> None:
    rel = sample(folder, "clean")
    problems, _ = outcome(manifest(folder, {"v": rel}, voice_extra="allowQuality: [clip]"))
    (line,) = problems
    assert line.startswith("voices.yaml:6:20: voices.v.allowQuality[0]: expected one of ")
    assert "'clipping'" in line and line.endswith("got the text 'clip'")


# ------------------------------------------------------------------ the cache


def test_a_second_validate_decodes_nothing(folder: Path) -> None:
    voices = {n: sample(folder, n, fmt) for n, fmt in (("clean", "wav"), ("noisy", "mp3"))}
    voices["same"] = voices["clean"]  # the same content is measured once
    path = manifest(folder, voices)
    before = decoder.decode_count()
    first = outcome(path)
    assert decoder.decode_count() - before == 2
    cached = json.loads((folder / ".voicectl" / "sample-analysis.json").read_text())
    assert cached["version"] == ANALYSIS_VERSION
    assert sorted(cached["entries"]) == sorted(
        load_manifest(path).manifest.voices[n].file_sha256 for n in ("clean", "noisy")
    )
    before = decoder.decode_count()
    assert outcome(path) == first
    # other limits need no decode either: the measurements are cached, not the findings
    path.write_text(path.read_text().replace("voices:", "quality: {minSnr: 10}\nvoices:"))
    assert outcome(path) == ([], [])
    assert decoder.decode_count() - before == 0
    # a changed sample is measured again (its hash changed), the other is not
    audio_support.write(folder / voices["clean"], audio_support.defect("quiet")[0])
    problems, _ = outcome(path)
    assert decoder.decode_count() - before == 1
    assert any("too quiet" in p for p in problems)


def test_a_stale_or_corrupt_cache_is_measured_again(folder: Path) -> None:
    path = folder / "samples" / "a.wav"
    audio_support.write(path, audio_support.speech(6.0))
    store = folder / "cache.json"
    sha = "a" * 64
    (result,) = analyse([(path, sha)], AnalysisCache(store)).values()
    assert json.loads(store.read_text())["version"] == ANALYSIS_VERSION
    before = decoder.decode_count()
    assert analyse([(path, sha)], AnalysisCache(store)) == {sha: result}
    assert decoder.decode_count() - before == 0
    for broken in (
        "{not json",
        json.dumps({"version": ANALYSIS_VERSION + 1, "entries": {sha: result.to_json()}}),
        json.dumps({"version": ANALYSIS_VERSION, "entries": {sha: {"seconds": 1.0}}}),
    ):
        store.write_text(broken)
        before = decoder.decode_count()
        assert analyse([(path, sha)], AnalysisCache(store)) == {sha: result}
        assert decoder.decode_count() - before == 1
    assert AnalysisCache(None).get(sha) is None  # no cache at all: nothing kept


def test_samples_are_measured_concurrently(folder: Path) -> None:
    # The pool's threads are the ones that decode: each sample is measured on one.
    paths = []
    for i in range(4):
        p = folder / f"s{i}.wav"
        audio_support.write(p, audio_support.speech(5.0 + i))
        paths.append((p, f"{i:064x}"))
    seen: list[str] = []
    real = decoder.decode

    def spy(path: Path):
        seen.append(threading.current_thread().name)
        return real(path)

    results = analyse(paths, AnalysisCache(None), workers=2, decode=spy)
    assert len(results) == 4
    assert all(name.startswith("voicectl-audio") for name in seen) and len(seen) == 4


def test_small_samples_are_measured_on_the_calling_thread(folder: Path) -> None:
    # A small file's work is short numpy calls: on the pool its threads would mostly
    # wait for the GIL. The large ones still go to the pool, and every result is kept
    # in order.
    paths = []
    for i, seconds in enumerate((0.5, 5.0, 0.6, 6.0)):
        p = folder / f"s{i}.wav"
        audio_support.write(p, audio_support.speech(seconds))
        paths.append((p, f"{i:064x}"))
    assert [p.stat().st_size < 64 * 1024 for p, _ in paths] == [True, False, True, False]
    seen: dict[str, str] = {}
    real = decoder.decode

    def spy(path: Path):
        seen[path.name] = threading.current_thread().name
        return real(path)

    results = analyse(paths, AnalysisCache(None), workers=2, decode=spy)
    here = threading.current_thread().name
    assert seen["s0.wav"] == seen["s2.wav"] == here
    assert seen["s1.wav"].startswith("voicectl-audio") and seen["s3.wav"].startswith(
        "voicectl-audio"
    )
    for (path, sha), seconds in zip(paths, (0.5, 5.0, 0.6, 6.0)):
        result = results[sha]
        assert not isinstance(result, str)
        assert result.seconds == pytest.approx(seconds, abs=0.01), path


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stopped_analysis_starts_no_further_sample_and_keeps_what_it_measured(
    folder: Path, workers: int
) -> None:
    # A run being interrupted sets ``stop``: the samples being measured finish (one
    # per worker at most) and are cached, no other is started.
    paths = []
    for i in range(6):
        p = folder / f"s{i}.wav"
        audio_support.write(p, audio_support.speech(5.0 + i / 10))
        paths.append((p, f"{i:064x}"))
    stop = threading.Event()
    decoded: list[str] = []
    real = decoder.decode

    def stop_on_first(path: Path):
        decoded.append(path.name)
        stop.set()
        return real(path)

    store = folder / "analysis.json"
    with pytest.raises(AnalysisStopped):
        analyse(paths, AnalysisCache(store), workers=workers, decode=stop_on_first, stop=stop)
    assert 1 <= len(decoded) <= workers, decoded
    cached = AnalysisCache(store)
    assert sum(cached.get(sha) is not None for _, sha in paths) == len(decoded)


# ------------------------------------------------------------------ without the extra


def _validate(folder: Path, blocker: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


# PyAV not installed: no finder on sys.meta_path finds it (looking for it fails as
# a missing module does, and so does importing it).
NO_AV = """
import sys

class _NoAv:
    def find_spec(self, name, path=None, target=None):
        if name == "av" or name.startswith("av."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoAv())
"""


def test_without_the_decoder_validate_says_once_that_quality_was_skipped(folder: Path) -> None:
    voices = {n: sample(folder, n) for n in ("clean", "clipped", "silence")}
    manifest(folder, voices)
    blocker = folder / "no-av"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_AV)
    run = _validate(folder, blocker)
    assert run.returncode == 0, run.stderr
    assert run.stderr == (
        "warning: voices.yaml: sample quality checks skipped: av is not installed "
        "(`pip install 'voicectl[quality]'` enables them)\n"
    )
    assert not (folder / ".voicectl" / "sample-analysis.json").exists()


def test_plain_wavs_are_measured_without_importing_pyav(folder: Path) -> None:
    # A PyAV whose import fails: the plain WAVs never need it (their findings are
    # reported), the mp3 does, and is reported as undecodable instead of failing.
    voices = {"clipped": sample(folder, "clipped"), "noisy": sample(folder, "noisy", "mp3")}
    manifest(folder, voices)
    blocker = folder / "broken-av"
    blocker.mkdir()
    (blocker / "av.py").write_text('raise ImportError("PyAV is broken here")\n')
    run = _validate(folder, blocker)
    assert run.returncode == 1, run.stderr
    assert "samples/clipped.wav: clipped:" in run.stderr
    assert (
        "samples/noisy.mp3: its audio cannot be decoded (PyAV does not import: PyAV is broken "
        "here), so its quality was not checked (allowQuality: [decode] accepts it)"
    ) in run.stderr
    assert "skipped" not in run.stderr


@pytest.mark.parametrize(("width", "channels"), [(1, 1), (1, 2), (2, 1), (2, 2), (4, 1)])
def test_a_plain_wav_read_directly_gives_ffmpegs_samples(
    tmp_path: Path, width: int, channels: int
) -> None:
    """Integer PCM WAV skips FFmpeg's small packets; the samples must not change."""
    import wave

    path = tmp_path / "pcm.wav"
    noise = np.random.default_rng(width * 10 + channels).integers(0, 256, 16000 * width * channels)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(16000)
        out.writeframes(noise.astype(np.uint8).tobytes())
    direct, ffmpeg = decoder.decode(path), decoder.decode_with_ffmpeg(path)
    assert (direct.rate, direct.channels, direct.codec) == (
        ffmpeg.rate,
        ffmpeg.channels,
        ffmpeg.codec,
    )
    assert direct.samples.dtype == ffmpeg.samples.dtype == np.float32
    assert np.array_equal(direct.samples, ffmpeg.samples)


def test_wavs_the_standard_library_cannot_read_still_decode() -> None:
    fixtures = Path(__file__).parents[1] / "fixtures" / "audio"
    for name in ("tone-1.5s-24bit.wav", "tone-1.5s-float.wav"):
        pcm = decoder.decode(fixtures / name)
        assert pcm.codec in ("pcm_s24le", "pcm_f32le")
        assert pcm.seconds == pytest.approx(1.5, abs=0.05)
        assert np.array_equal(pcm.samples, decoder.decode_with_ffmpeg(fixtures / name).samples)


def test_a_measurement_reads_back_from_its_json_as_the_same_frozen_value() -> None:
    import dataclasses

    from reconciler.audio.measurement import Measurement

    fields = dataclasses.fields(Measurement)
    names = [f.name for f in fields]
    made = {"float": float, "int": int, "str": str}  # each field of its own type
    measured = Measurement(**{f.name: made[str(f.type)](i) for i, f in enumerate(fields)})
    data = measured.to_json()
    assert list(data) == names and data == dataclasses.asdict(measured)
    back = Measurement.from_json(json.loads(json.dumps(data)))
    assert back == measured and hash(back) == hash(measured)
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.snr_db = 0.0  # type: ignore[misc]
    for wrong in ({**data, "extra": 1}, {k: v for k, v in data.items() if k != "rate"}):
        with pytest.raises(ValueError):
            Measurement.from_json(wrong)


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "1.5"])
def test_a_quality_workers_value_that_is_no_width_is_refused(monkeypatch, bad) -> None:
    # It was silently replaced by the CPU count: a typo must say so, in one line.
    from reconciler.audio.analyse import _default_workers
    from reconciler.errors import UserError

    monkeypatch.setenv("VOICECTL_QUALITY_WORKERS", bad)
    with pytest.raises(UserError) as info:
        _default_workers()
    assert str(info.value) == (
        f"VOICECTL_QUALITY_WORKERS={bad!r}: expected a whole number of 1 or more "
        "(how many samples are measured at once)"
    )
    for good, width in (("3", 3), (" 2 ", 2), ("", os.cpu_count() or 1)):
        monkeypatch.setenv("VOICECTL_QUALITY_WORKERS", good)
        assert _default_workers() == width
