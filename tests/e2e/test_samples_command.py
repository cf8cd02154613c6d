"""`voicectl samples`: the clips recorded for each clone, listed, downloaded and checked
(end to end against the sandbox; a near-empty clip is the legacy-clone symptom)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from cli_support import Project
from sandbox_support import ROOT


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def schema() -> dict:
    return json.loads((ROOT / "schemas" / "samples.schema.json").read_text())


@pytest.mark.e2e
def test_samples_lists_downloads_and_checks_the_clips(project, tmp_path):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    lock = project.lock()
    listed = project.run("samples").out
    for name in ("alpha", "bravo"):
        entry = lock["voices"][name]
        assert f"{name} ({entry['voiceId']}):" in listed
        for n, sample in enumerate(entry["samples"], start=1):
            assert f"  {n}. {sample['audioUrl']}" in listed

    dest = tmp_path / "review"
    r = project.run("samples", "alpha", "--download", str(dest))
    assert sorted(p.name for p in dest.iterdir()) == ["alpha-1.wav", "alpha-2.wav"]
    assert "bravo" not in r.out
    assert f"saved {dest / 'alpha-1.wav'} (" in r.out and "1.5 s of sound" in r.out
    assert r.err == ""

    doc = json.loads(project.run("samples", "--download", str(dest), "--format", "json").out)
    jsonschema.validate(doc, schema())
    assert doc["downloaded"] is True and doc["problems"] == 0
    assert [v["name"] for v in doc["voices"]] == ["alpha", "bravo"]
    clip = doc["voices"][0]["samples"][0]
    assert clip["n"] == 1 and clip["file"] == str(dest / "alpha-1.wav")
    assert clip["speechSeconds"] == pytest.approx(1.5, abs=0.05) and clip["problem"] is None


@pytest.mark.e2e
def test_a_near_empty_clip_is_reported(project, tmp_path):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.server.config(empty_sample_rate=1.0)  # the service answers ~150-byte WAVs
    dest = tmp_path / "review"
    r = project.run("samples", "--download", str(dest), expect=1)
    assert f"Error: {dest / 'alpha-1.wav'}: near-empty: 150 bytes" in r.err
    assert "the legacy-clone symptom" in r.err
    assert r.err.splitlines()[-1] == "Error: 2 sample clips have a problem"
    doc = json.loads(project.run("samples", "--download", str(dest), "--json", expect=1).out)
    jsonschema.validate(doc, schema())
    assert doc["problems"] == 2
    assert [e["message"] for e in doc["errors"]] == ["2 sample clips have a problem"]
    assert all(c["problem"].startswith("near-empty") for c in doc["voices"][0]["samples"])
    assert doc["voices"][0]["samples"][0]["speechSeconds"] == 0.0


@pytest.mark.e2e
def test_samples_without_a_lockfile_or_of_an_unknown_voice(project):
    project.write({"alpha": {}})
    r = project.run("samples", expect=1)
    assert "no lockfile yet; run `voicectl apply` first" in r.err
    project.run("apply", "--auto-approve")
    r = project.run("samples", "nope", expect=1)
    assert "no voice named 'nope' (recorded: alpha)" in r.err


def test_the_clip_policy_flags_silence_and_too_little_sound(tmp_path):
    import audio_support
    import numpy as np

    from reconciler.audio.analyse import measure_file
    from reconciler.engine.clips import clip_problem

    silent = audio_support.write(tmp_path / "s.wav", np.zeros(24000, np.float32))
    blip = audio_support.write(
        tmp_path / "b.wav",
        np.concatenate([audio_support.speech(0.2), np.zeros(16000, np.float32)]),
    )
    fine = audio_support.write(tmp_path / "f.wav", audio_support.speech(2.0))
    assert clip_problem(measure_file(silent)).startswith("silent: 1.5 s without sound")
    assert clip_problem(measure_file(blip)).startswith("near-empty: 0.")
    assert clip_problem(measure_file(fine)) is None


@pytest.mark.e2e
def test_apply_download_samples_warns_about_a_near_empty_clip(project, tmp_path):
    project.server.config(empty_sample_rate=1.0)
    project.write({"alpha": {}})
    dest = tmp_path / "review"
    r = project.run("apply", "--auto-approve", "--download-samples", str(dest))
    assert "Apply complete! 1 created" in r.out and "Saved 2 samples to" in r.out
    warned = [line for line in r.err.splitlines() if "near-empty: 150 bytes" in line]
    assert warned == [
        f"warning: {dest / f'alpha-{n}.wav'}: near-empty: 150 bytes (a clip that holds speech "
        "has more than 1000); the clone may not speak (the legacy-clone symptom)"
        for n in (1, 2)
    ]
