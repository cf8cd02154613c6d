"""End to end: the real CLI against `voicectl sandbox serve` over real sockets.

Each test starts from an empty organisation (the shared server is reset).
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


def apply(project: Project, *args: str, expect: int = 0):
    return project.run("apply", "--auto-approve", *args, expect=expect)


def test_create_then_noop_with_byte_identical_lockfile(project):
    project.write({"alpha": {"displayName": "Alpha", "tags": ["x"]}, "bravo": {}})
    out = apply(project).out
    assert "Plan: 2 to create, 0 to replace, 0 to delete." in out
    assert "alpha: Creating..." in out and "alpha: Creation complete after" in out
    assert "Apply complete! 2 created, 0 replaced, 0 deleted." in out
    lock = project.lock()
    assert set(lock["voices"]) == {"alpha", "bravo"}
    assert {n: [v] for n, v in project.ids().items()} == project.owned()
    alpha = next(c for c in project.remote() if c["voiceId"] == lock["voices"]["alpha"]["voiceId"])
    assert alpha["displayName"] == "Alpha"
    assert "x" in alpha["tags"] and "voicectl-name:alpha" in alpha["tags"]
    assert lock["voices"]["alpha"]["modelIds"] == ["lightning-v3.1"]

    before = project.lockfile.read_bytes()
    again = apply(project)
    assert "No changes." in again.out
    assert project.lockfile.read_bytes() == before
    assert project.run("plan", "--detailed-exitcode", expect=0).out.startswith("No changes.")


def test_replace_on_audio_change(project):
    project.write({"alpha": {}})
    apply(project)
    old = project.ids()["alpha"]
    project.sample("alpha", variant=1)
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "audio file changed" in plan and "-/+" in plan
    out = apply(project).out
    assert "Apply complete! 0 created, 1 replaced, 0 deleted." in out
    new = project.ids()["alpha"]
    assert new != old
    assert [c["voiceId"] for c in project.remote()] == [new]


@pytest.mark.parametrize(
    "field, value",
    [
        ("displayName", "Alpha Two"),
        ("language", "hi"),
        ("description", "a new description"),
        ("accent", "indian"),
        ("tags", ["x", "y"]),
    ],
)
def test_replace_on_each_metadata_field(project, field, value):
    base = {"displayName": "Alpha", "description": "old", "accent": "general", "tags": ["x"]}
    project.write({"alpha": base})
    apply(project)
    old = project.ids()["alpha"]
    project.write({"alpha": {**base, field: value}})
    plan = project.run("plan", "--format", "json", expect=0).out
    (action,) = json.loads(plan)["actions"]
    assert action["action"] == "replace"
    assert [c["field"] for c in action["changes"]] == [field]
    apply(project)
    (clone,) = project.remote()
    assert clone["voiceId"] == project.ids()["alpha"] != old
    got = clone[field] if field != "tags" else [t for t in clone["tags"] if ":" not in t]
    assert got == value


@pytest.mark.parametrize("prune, survivors", [("managed", 2), ("all", 1), ("none", 3)])
def test_delete_per_prune_mode(project, prune, survivors):
    with project.server.client() as http:  # a hand-made clone nobody manages
        project.sample("hand")
        with open(project.root / "samples/hand.wav", "rb") as fh:
            r = http.post(
                "/waves/v1/voice-cloning",
                data={"displayName": "Hand made"},
                files={"file": ("hand.wav", fh, "audio/wav")},
            )
        r.raise_for_status()
    project.write({"keep": {}, "drop": {}}, prune=prune)
    apply(project)
    project.write({"keep": {}}, prune=prune)
    out = apply(project, "--allow-mass-delete").out
    names = {c["displayName"] for c in project.remote()}
    assert len(names) == survivors
    assert "keep" in names
    if prune == "all":
        assert "Hand made" not in names and "drop" not in names
    if prune == "managed":
        assert names == {"keep", "Hand made"}
        assert "drop: Destruction complete" in out
    assert set(project.ids()) == {"keep"}


def test_ignore_protects_unmanaged_clones_from_prune_all(project):
    with project.server.client() as http:
        for name in ("Test one", "Scratch"):
            project.sample("t")
            with open(project.root / "samples/t.wav", "rb") as fh:
                http.post(
                    "/waves/v1/voice-cloning",
                    data={"displayName": name},
                    files={"file": ("t.wav", fh, "audio/wav")},
                ).raise_for_status()
    project.write({"keep": {}}, prune="all", ignore=["Test *"])
    apply(project)
    assert {c["displayName"] for c in project.remote()} == {"keep", "Test one"}


def test_adopt_after_losing_the_lockfile_makes_no_duplicate(project):
    project.write({"alpha": {}, "bravo": {}})
    apply(project)
    ids = project.ids()
    project.lockfile.unlink()
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "will be recorded in the lockfile" in plan
    assert "Plan: 0 to create, 0 to replace, 0 to delete. 2 lockfile repairs." in plan
    apply(project)
    assert project.ids() == ids
    assert len(project.remote()) == 2
    assert project.run("plan", "--detailed-exitcode").out.startswith("No changes.")


def test_a_lockfile_with_a_voice_written_twice_stops_every_command(project):
    """A merge that kept both sides' entry of one voice: read as JSON, the last one
    wins and the first clone's voiceId is gone; refused, nothing is sent."""
    project.write({"alpha": {}, "bravo": {}})
    apply(project)
    text = project.lockfile.read_text()
    alpha = project.ids()["alpha"]
    start = text.index('    "alpha": {')
    end = text.index("\n    },\n", start) + len("\n    },\n")
    entry = text[start:end]
    project.lockfile.write_text(
        text[:end] + entry.replace(alpha, "voice_fromtheotherbranch") + text[end:]
    )
    damaged = project.lockfile.read_bytes()
    line = text[:end].count("\n") + 1
    for command in (["plan"], ["apply", "--auto-approve"], ["output"]):
        result = project.run(*command, expect=1)
        assert result.err.startswith(
            f'Error: {project.lockfile}:{line}: key "alpha" appears twice in one object'
        ), result.err
        assert result.err.count("\n") == 1
    assert project.lockfile.read_bytes() == damaged
    assert len(project.remote()) == 2


def test_a_replace_of_a_clone_still_being_made_says_it_waits(project):
    """--replace of a voice whose clone is still processing: nothing is replaced now,
    and the run says so (it was dropped without a word, exit 0)."""
    project.write({"alpha": {}})
    project.server.config(processing_seconds=3600)
    project.run("apply", "--auto-approve", "--wait-timeout", "0.5", expect=1)
    r = project.run("plan", "--replace", "alpha", "--detailed-exitcode", expect=2)
    assert "--replace alpha: its clone " in r.text and "is still being made" in r.text, r.text
    assert "run apply again without --replace once it has completed" in r.text
    project.server.config(processing_seconds=0)
    project.server.finish_processing()


def test_target_and_replace(project):
    project.write({"alpha": {}, "bravo": {}})
    apply(project, "--target", "alpha")
    assert set(project.ids()) == {"alpha"}
    apply(project)
    ids = project.ids()
    out = apply(project, "--replace", "bravo").out
    assert "forced with --replace" in out
    new = project.ids()
    assert new["alpha"] == ids["alpha"] and new["bravo"] != ids["bravo"]
    assert len(project.remote()) == 2
    bad = project.run("plan", "--target", "nope", expect=1)
    assert "--target nope: no voice of that name" in bad.err
    # a --replace outside the targets would be dropped without a word: refused
    outside = project.run("plan", "--target", "alpha", "--replace", "bravo", expect=1)
    assert outside.err == (
        "Error: --replace bravo: not one of the --target voices (alpha); add --target bravo, "
        "or leave --replace out\n"
    )
    # the old name of a moved: entry is no voice to target: it names the new one
    project.write(
        {"alpha-new": {"file": "samples/alpha.wav", "displayName": "alpha"}, "bravo": {}},
        moved=[{"from": "alpha", "to": "alpha-new"}],
    )
    moved = project.run("plan", "--target", "alpha", expect=1)
    assert moved.err == (
        "Error: --target alpha: voices.yaml renames it to alpha-new (moved:); use --target "
        "alpha-new\n"
    )
    assert "→ alpha-new" in project.run("plan", "--target", "alpha-new").out
    # a placeholder voice is declared: --replace says what holds it
    text = project.manifest.read_text().replace("file: samples/bravo.wav", "file: FILL-ME-IN")
    project.manifest.write_text(text)
    held = project.run("plan", "--replace", "bravo", expect=1)
    assert held.err == (
        "Error: --replace bravo: voices.bravo's file is still the FILL-ME-IN placeholder; set "
        "file: to its sample first\n"
    )


def test_protect_refuses_delete_and_replace(project):
    project.write({"alpha": {"protect": True}})
    apply(project)
    project.write({"alpha": {"protect": True, "description": "changed"}})
    r = apply(project, expect=1)
    assert "protect is true, refusing to replace" in r.err
    assert "Plan refused: 1 problem (below); nothing will change." in r.out
    project.write({})
    r = apply(project, expect=1)
    assert "refusing to delete" in r.err
    assert len(project.remote()) == 1


def test_mass_delete_threshold(project):
    voices = {f"v{i}": {} for i in range(10)}
    project.write(voices)
    apply(project)
    project.write({f"v{i}": {} for i in range(6)})
    r = apply(project, expect=1)
    assert "refusing to delete or replace 4 of 10 existing clones" in r.err
    assert len(project.remote()) == 10
    apply(project, "--allow-mass-delete")
    assert len(project.remote()) == 6


def test_concurrent_applies_one_waits_out(project):
    project.write({f"v{i}": {} for i in range(3)})
    # The first apply asks for confirmation on a terminal, holding the lock: it stays
    # there, at a known point, until the test answers (no latency, no timing).
    first = project.spawn_on_pty("apply")
    first.expect("Enter a value:")
    impatient = project.spawn("apply", "--auto-approve")
    out2, err2 = impatient.communicate(timeout=120)
    assert impatient.returncode == 1, out2 + err2
    assert "another voicectl run holds the lock" in err2
    assert project.remote() == []  # refused before any change
    patient = project.spawn("apply", "--auto-approve", "--lock-timeout", "600")
    notice = ""
    while "waiting up to 600s" not in notice:  # it found the lock taken and waits
        line = patient.stderr.readline()
        assert line, f"exited without waiting: {patient.wait(120)}"
        notice += line
    first.send("yes")
    code, out1 = first.finish()
    assert code == 0 and "Apply complete! 3 created, 0 replaced, 0 deleted." in out1, out1
    out3, err3 = patient.communicate(timeout=120)
    assert patient.returncode == 0 and "No changes." in out3, out3 + err3
    assert len(project.remote()) == 3


def test_missing_key_and_no_tty_are_clear_errors(project, monkeypatch):
    project.write({"alpha": {}})
    project.key = "   "  # set, but blank (a CI secret that was never filled in)
    r = project.run("plan", expect=1)
    assert r.err.startswith("Error: SMALLEST_API_KEY is blank: export your Waves API key")
    project.key = "sk-sandbox-tests-0123456789"
    r = project.run("apply", expect=1)  # stdin is not a terminal under pytest
    assert "pass --auto-approve" in r.err
    assert project.remote() == []


def test_global_options_before_or_after_and_from_env(project):
    project.write({"alpha": {}})
    url = project.server.url
    project.run("--api-url", url, "--no-color", "plan")
    project.run("plan", "--api-url", url, "--debug", "--no-color")
    r = project.run("plan", "--api-url", "http://127.0.0.1:9", expect=1)  # nothing listens
    assert "Error:" in r.err


def test_bad_manifest_makes_no_api_call(project):
    project.write({"alpha": {"file": "samples/missing.wav"}})
    project.server.reset_stats()
    r = project.run("plan", expect=1)
    assert "samples/missing.wav does not exist" in r.err
    r = project.run("apply", "--auto-approve", expect=1)
    assert sum(project.server.stats()["requests"].values()) == 0
