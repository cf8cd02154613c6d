"""`voicectl check`: WAV measurement, and the command end to end against the sandbox."""

from __future__ import annotations

import json
import struct

import pytest
from sandbox_support import until
from test_import import legacy

from reconciler.engine.checking import measure_wav
from reconciler.sandbox import wav

# --------------------------------------------------------------------------- measurement


def test_the_legacy_symptom_is_too_short():
    info = measure_wav(wav.near_empty_wav())
    assert info.size == 150 and info.seconds is not None and info.seconds < 0.01
    assert info.problem and "too short to hold speech (150 bytes" in info.problem


def test_speech_length_audio_passes():
    info = measure_wav(wav.tone_wav(1.2, sample_rate=16000))
    assert info.problem is None and info.seconds == pytest.approx(1.2)


def test_silence_and_non_wav_and_streamed_headers():
    silent = wav.wav_bytes(b"\0\0" * 24000, sample_rate=24000)
    assert "silent" in measure_wav(silent).problem
    assert "not a WAV" in measure_wav(b"ID3\x03 mp3 bytes").problem
    assert "not a WAV" in measure_wav(b"").problem
    streamed = bytearray(wav.tone_wav(1.0, sample_rate=8000))
    data_at = streamed.index(b"data")
    streamed[data_at + 4 : data_at + 8] = struct.pack("<I", 0xFFFFFFFF)
    streamed[4:8] = struct.pack("<I", 0xFFFFFFFF)
    assert measure_wav(bytes(streamed)).seconds == pytest.approx(1.0)
    cut = wav.tone_wav(2.0, sample_rate=8000)[:600]  # header claims 2 s, 0.03 s arrived
    assert "too short" in measure_wav(cut).problem
    no_data = wav.tone_wav(1.0)[:36]
    assert "without audio data" in measure_wav(no_data).problem


# --------------------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_check_all_green_then_flags_legacy_missing_and_processing(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    ok = project.run("check", "--probe")
    assert "2 voices checked (with a lightning_v3.1 probe): 2 ok, 0 with problems." in ok.out
    assert ok.out.count(" ok\n") + ok.out.count(" ok") >= 2

    # a legacy clone adopted through import, a deleted clone, a clone still processing
    project.sample("old")
    old = legacy(project, "Old", "samples/old.wav")
    project.run("import", "--select", "Old", "--samples", str(project.root / "samples"))
    with project.server.client() as http:
        http.request(
            "DELETE", "/waves/v1/lightning-large", json={"voiceId": project.ids()["bravo"]}
        )
    r = project.run("check", "--probe", expect=1)
    assert "old: modelIds (lightning-large) lack lightning-v3.1" in r.out
    assert "old: probe on lightning_v3.1: audio too short to hold speech (150 bytes" in r.out
    assert f"bravo: clone {project.ids()['bravo']} does not exist on the service" in r.out
    assert "3 voices checked (with a lightning_v3.1 probe): 1 ok, 2 with problems." in r.out

    data = json.loads(project.run("check", "--probe", "--json", expect=1).out)
    assert data["formatVersion"] == 1 and data["ok"] is False and data["probe"] is True
    by_name = {v["name"]: v for v in data["voices"]}
    assert by_name["alpha"]["ok"] and by_name["alpha"]["probe"]["ok"]
    assert by_name["alpha"]["probe"]["bytes"] > 1000
    assert by_name["old"]["voiceId"] == old and by_name["old"]["lightningV31"] is False
    assert by_name["old"]["probe"] == {"bytes": 150, "seconds": 0.002, "ok": False}
    assert by_name["bravo"]["exists"] is False and by_name["bravo"]["probe"] is None
    assert data["summary"] == {"checked": 3, "ok": 1, "failed": 2}
    # exit 1: `errors` says so (the details are per voice)
    assert [e["message"] for e in data["errors"]] == [
        "2 voices with problems (see voices[].problems)"
    ]

    only = project.run("check", "--target", "alpha", "--format", "json")
    assert [v["name"] for v in json.loads(only.out)["voices"]] == ["alpha"]
    assert json.loads(only.out)["errors"] == []


@pytest.mark.e2e
def test_probes_run_one_at_a_time_by_default(project):
    project.write({f"v{i}": {} for i in range(4)})
    project.run("apply", "--auto-approve")
    server = project.server

    def peak() -> int:
        stats = server.stats()
        assert stats["requests"]["POST /waves/v1/tts"] == 4 and stats["rate_limited"] == 0
        return max(stats["max_in_flight"].values())

    server.reset_stats()
    project.run("check", "--probe")
    assert peak() == 1  # TTS allows one request at a time on the base plan
    # a plan that allows more at once (the emulator's base plan allows one):
    server.config(tts_concurrency=0)
    server.reset_stats()
    server.hold(path="/waves/v1/tts")  # probes wait at the server: do two ever overlap?
    check = project.spawn("check", "--probe", "--probe-parallelism", "4")
    until(lambda: server.stats()["held_now"] >= 2, "two probes at the server at once")
    server.release()
    out, err = check.communicate(timeout=120)
    assert check.returncode == 0, out + err
    assert peak() >= 2
    # the base plan's one at a time, asked for four: the second gets 429, and the
    # probes still all pass (the limiter backs off)
    server.config(tts_concurrency=1)
    server.reset_stats()
    server.hold(path="/waves/v1/tts")
    check = project.spawn("check", "--probe", "--probe-parallelism", "4")
    until(lambda: server.stats()["rate_limited"] >= 1, "a second probe refused with 429")
    server.release()
    out, err = check.communicate(timeout=120)
    assert check.returncode == 0, out + err
    stats = server.stats()
    assert stats["responses"].get("200", 0) >= 4 and max(stats["max_admitted"].values()) == 1


@pytest.mark.e2e
def test_check_errors(project):
    r = project.run("check", expect=1)
    assert "no lockfile yet" in r.err
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    r = project.run("check", "--target", "nope", expect=1)
    assert "--target nope: no voice of that name" in r.err
    project.server.config(processing_seconds=3600)
    project.run("apply", "--auto-approve", "--replace", "alpha", "--wait-timeout", "0.5", expect=1)
    r = project.run("check", expect=0)  # the old clone is still the recorded one
    assert "1 ok" in r.out
