"""New clones' pre-generated samples: shown after apply, kept in the lockfile, saved
with --download-samples as NAME-N.wav (end to end against the sandbox)."""

from __future__ import annotations

import wave

import pytest

pytestmark = pytest.mark.e2e


def test_apply_shows_and_saves_the_samples_of_new_clones(project, tmp_path):
    project.write({"alpha": {}, "bravo": {}})
    heard = tmp_path / "review" / "samples"
    out = project.run("apply", "--auto-approve", "--download-samples", str(heard)).out
    assert "Samples of the new clones (listen before the new voiceIds go live):" in out
    lock = project.lock()
    for name in ("alpha", "bravo"):
        entry = lock["voices"][name]
        assert len(entry["samples"]) == 2
        urls = " ".join(sample["audioUrl"] for sample in entry["samples"])
        # no terminal: one short line per clone, its URLs (the served sandbox's port)
        assert f"  {name} ({entry['voiceId']}): {urls}\n" in out
        assert project.server.url in urls
        for n, sample in enumerate(entry["samples"], start=1):
            assert sample["text"] not in out
            with wave.open(str(heard / f"{name}-{n}.wav")) as w:  # a real WAV
                assert w.getnframes() > 0
    assert "Saved 4 samples to" in out
    assert sorted(p.name for p in heard.iterdir()) == [
        "alpha-1.wav",
        "alpha-2.wav",
        "bravo-1.wav",
        "bravo-2.wav",
    ]

    again = project.run("apply", "--auto-approve", "--download-samples", str(heard)).out
    assert "Samples of the new clones" not in again  # nothing new: nothing to show

    project.sample("alpha", variant=1)
    replaced = project.run("apply", "--auto-approve").out
    new_id = project.ids()["alpha"]
    assert f"  alpha ({new_id}):" in replaced and "bravo (" not in replaced


def test_a_download_failure_is_an_error_after_a_recorded_apply(project, tmp_path):
    project.write({"alpha": {}})
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    r = project.run("apply", "--auto-approve", "--download-samples", str(blocker / "sub"), expect=1)
    assert "Apply complete! 1 created" in r.out
    assert "cannot create the folder" in r.err
    assert set(project.ids()) == {"alpha"}  # the clone is recorded all the same


def test_download_samples_must_be_a_folder(project, tmp_path):
    project.write({"alpha": {}})
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    r = project.run("apply", "--auto-approve", "--download-samples", str(blocker), expect=1)
    assert "file.txt" in r.err and "is a file" in r.err
    assert project.remote() == []


def test_embedded_sandbox_prints_no_sample_links_but_saves_them(project, tmp_path):
    project.write({"alpha": {}, "bravo": {}})
    heard = tmp_path / "heard"
    out = project.run("--sandbox", "apply", "--auto-approve", "--download-samples", str(heard)).out
    assert "Samples of the 2 new clones are in the embedded sandbox" in out
    assert "_sandbox/samples" not in out and "http" not in out  # no link that opens nothing
    listed = project.run("--sandbox", "samples").out
    assert "(in the embedded sandbox)" in listed and "http" not in listed
    assert "--download DIR saves them as files." in listed
    assert sorted(p.name for p in heard.iterdir()) == [
        "alpha-1.wav",
        "alpha-2.wav",
        "bravo-1.wav",
        "bravo-2.wav",
    ]


def test_non_tty_sample_block_stays_short(project):
    from reconciler.render import SHORT_SAMPLES

    names = [f"v{n:02d}" for n in range(SHORT_SAMPLES + 2)]
    project.write({name: {} for name in names})
    out = project.run("apply", "--auto-approve").out
    block = out.split("Samples of the new clones")[1].splitlines()[1:]
    block = [line for line in block if line.startswith("  ")]
    assert len(block) == SHORT_SAMPLES + 1, block
    assert block[-1] == "  ... and 2 more (`voicectl samples` lists them all)"
