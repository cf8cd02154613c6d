"""Saved plans: `plan --out FILE` then `apply FILE` applies exactly that plan, or refuses
it as stale naming what changed. Real CLI against `voicectl sandbox serve`.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from cli_support import Project, run_main
from sandbox_support import CLONES, DELETE, KEY, ROOT

from reconciler.endpoint import safe_endpoint

SAVED_SCHEMA = json.loads((ROOT / "schemas" / "saved-plan.schema.json").read_text())


def save(project: Project, *args: str, expect: int = 0) -> dict:
    project.run("plan", "--out", str(project.root / "plan.json"), *args, expect=expect)
    doc = json.loads((project.root / "plan.json").read_text())
    jsonschema.validate(doc, SAVED_SCHEMA)
    return doc


def apply_saved(project: Project, *args: str, expect: int = 0):
    return project.run("apply", str(project.root / "plan.json"), *args, expect=expect)


def stale(project: Project, *fragments: str) -> str:
    """Apply the saved plan, expect a refusal naming each fragment, and no change."""
    before = sorted(c["voiceId"] for c in project.remote())
    lock = project.lockfile.read_bytes() if project.lockfile.exists() else None
    r = apply_saved(project, expect=1)
    (line,) = [x for x in r.err.splitlines() if x.startswith("Error:")]
    assert " is stale: " in line, r.err
    for fragment in fragments:
        assert fragment in line, line
    assert "Nothing was changed" in line
    assert sorted(c["voiceId"] for c in project.remote()) == before
    assert (project.lockfile.read_bytes() if project.lockfile.exists() else None) == lock
    return line


@pytest.mark.e2e
def test_saved_plan_applies_exactly_and_only_once(project):
    project.write({"alpha": {}, "bravo": {}})
    doc = save(project, "--target", "alpha")
    assert [(a["action"], a["name"]) for a in doc["plan"]["actions"]] == [("create", "alpha")]
    assert doc["options"]["targets"] == ["alpha"]
    r = apply_saved(project)
    assert "Apply complete! 1 created, 0 replaced, 0 deleted." in r.out
    assert set(project.ids()) == {"alpha"}  # the plan's target, not the whole manifest
    line = stale(project, "the lockfile was created (serial")
    assert "plan.json is stale" in line


@pytest.mark.e2e
def test_second_application_after_a_change_is_refused_by_serial(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    serial = project.lock()["serial"]
    project.write({"alpha": {"description": "new"}})
    save(project)
    apply_saved(project)
    new_serial = project.lock()["serial"]
    line = stale(project, f"the lockfile changed (serial {serial} -> {new_serial})")
    assert line.endswith("run `voicectl plan --out` again and review the new plan")


@pytest.mark.e2e
def test_remote_change_alone_is_named(project):
    """A replacement done by someone else's apply: files equal, the clones differ."""
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    save(project)
    lock = project.lockfile.read_bytes()
    project.run("apply", "--auto-approve", "--replace", "alpha")
    old, new = json.loads(lock)["voices"]["alpha"]["voiceId"], project.ids()["alpha"]
    project.lockfile.write_bytes(lock)  # as if the lockfile had not been committed
    stale(project, f"the remote clones changed: {new} added, {old} deleted")


@pytest.mark.e2e
def test_saved_plan_needs_no_confirmation_and_holds_no_secret(project):
    project.write({"alpha": {}})
    save(project)
    text = (project.root / "plan.json").read_text()
    assert KEY not in text and "Bearer" not in text and "sk-" not in text
    doc = json.loads(text)
    assert doc["inputs"]["remote"]["endpoint"] == project.server.url
    apply_saved(project)  # stdin is not a terminal: no question asked


@pytest.mark.e2e
def test_no_changes_plan_applies_as_no_changes(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    before = project.lockfile.read_bytes()
    doc = save(project, "--detailed-exitcode")
    assert doc["plan"]["summary"]["changes"] == 0
    r = apply_saved(project)
    assert "No changes." in r.out
    assert project.lockfile.read_bytes() == before


@pytest.mark.e2e
def test_refused_when_the_manifest_changed(project):
    project.write({"alpha": {}})
    save(project)
    project.write({"alpha": {"description": "edited after review"}})
    stale(project, f"the manifest {project.manifest} changed")


@pytest.mark.e2e
def test_refused_when_a_sample_changed_or_went_missing(project):
    project.write({"alpha": {}, "bravo": {}})
    save(project)
    project.sample("alpha", variant=7)
    (project.root / "samples" / "bravo.wav").unlink()
    stale(project, "sample samples/alpha.wav changed", "sample samples/bravo.wav is missing")


def edit_plan(project: Project, **samples: str) -> None:
    path = project.root / "plan.json"
    doc = json.loads(path.read_text())
    for name, file in samples.items():
        doc["inputs"]["samples"][name]["file"] = file
    path.write_text(json.dumps(doc))


def refused_as_edited(project: Project, *fragments: str) -> str:
    before = sorted(c["voiceId"] for c in project.remote())
    r = apply_saved(project, expect=1)
    (line,) = r.err.strip().splitlines()  # one line, no traceback
    for fragment in ("plan.json: the ", "the plan file was edited", *fragments):
        assert fragment in line, line
    assert sorted(c["voiceId"] for c in project.remote()) == before
    assert not project.lockfile.exists()
    return line


@pytest.mark.e2e
@pytest.mark.parametrize(
    "edited",
    [
        "../outside.wav",
        "/etc/hostname",
        "samples/../../outside.wav",
        "samples/\u0000.wav",
    ],
)
def test_plan_with_sample_paths_edited_outside_the_folder_is_refused(project, edited):
    project.write({"alpha": {}})
    save(project)
    (project.root.parent / "outside.wav").write_bytes(b"x")
    edit_plan(project, alpha=edited)
    line = refused_as_edited(project, "sample of alpha", "outside the manifest's folder")
    assert "\x00" not in line


@pytest.mark.e2e
def test_plan_with_a_sample_path_edited_inside_the_folder_is_refused(project):
    project.write({"alpha": {}, "bravo": {}})
    save(project)
    edit_plan(project, alpha="samples/bravo.wav")  # and its hash, so no file looks changed
    doc = json.loads((project.root / "plan.json").read_text())
    doc["inputs"]["samples"]["alpha"]["sha256"] = doc["inputs"]["samples"]["bravo"]["sha256"]
    (project.root / "plan.json").write_text(json.dumps(doc))
    refused_as_edited(
        project,
        "sample recorded for alpha (samples/bravo.wav)",
        "the manifest's (samples/alpha.wav)",
    )


@pytest.mark.e2e
def test_refused_when_the_lockfile_was_deleted_replaced_or_edited(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    original = project.lockfile.read_text()
    project.write({"alpha": {}, "bravo": {}})
    save(project)

    project.lockfile.unlink()
    stale(project, "the lockfile was deleted")

    lock = json.loads(original)
    lock["lineage"] = "00000000-0000-4000-8000-000000000000"
    project.lockfile.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    stale(project, "was replaced (lineage", "-> 00000000-0000-4000-8000-000000000000)")

    lock = json.loads(original)
    lock["voices"]["alpha"]["status"] = "processing"  # a hand edit, serial unchanged
    project.lockfile.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    stale(project, f"was edited (serial {lock['serial']} unchanged)")

    project.lockfile.write_text(original)
    apply_saved(project)  # the same inputs again: applies


@pytest.mark.e2e
def test_refused_when_remote_clones_were_added_deleted_or_changed(project):
    project.write({"alpha": {}, "bravo": {}}, prune="all")
    project.run("apply", "--auto-approve")
    ids = project.ids()
    project.write({"alpha": {}, "bravo": {}, "charlie": {}}, prune="all")
    save(project)
    with project.server.client() as http:
        http.request("DELETE", DELETE, json={"voiceId": ids["bravo"]}).raise_for_status()
        http.patch(f"/_sandbox/clones/{ids['alpha']}", json={"description": "x"})
        project.sample("hand")
        with open(project.root / "samples" / "hand.wav", "rb") as fh:
            r = http.post(
                CLONES,
                data={"displayName": "hand"},
                files={"file": ("h.wav", fh, "audio/wav")},
            )
        hand = r.json()["data"]["voiceId"]
    stale(
        project,
        f"the remote clones changed: {hand} added, {ids['bravo']} deleted, {ids['alpha']} changed",
    )


@pytest.mark.e2e
def test_other_stacks_clones_do_not_make_the_plan_stale(project):
    """With prune: managed, clones this stack cannot touch are not part of the plan."""
    project.write({"alpha": {}})
    save(project)
    with project.server.client() as http:
        project.sample("hand")
        with open(project.root / "samples" / "hand.wav", "rb") as fh:
            http.post(
                CLONES,
                data={"displayName": "other team", "tags": "voicectl-stack:other"},
                files={"file": ("h.wav", fh, "audio/wav")},
            ).raise_for_status()
    apply_saved(project)


@pytest.mark.e2e
def test_refused_when_run_against_another_endpoint(project):
    project.write({"alpha": {}})
    save(project)
    r = project.run("--sandbox", "apply", str(project.root / "plan.json"), expect=1)
    assert f"it was made against {project.server.url}, this run uses sandbox" in r.err


@pytest.mark.e2e
def test_plan_options_cannot_be_changed_at_apply(project):
    project.write({"alpha": {}})
    save(project)
    for flag in (
        ["--target", "alpha"],
        ["--replace", "alpha"],
        ["--list-grace", "5"],
        ["--allow-mass-delete"],
    ):
        r = apply_saved(project, *flag, expect=1)
        assert f"{flag[0]} cannot be used with a saved plan" in r.err
    assert project.remote() == []


@pytest.mark.e2e
def test_plan_with_errors_is_not_saved(project):
    project.write({"alpha": {"protect": True}})
    project.run("apply", "--auto-approve")
    project.write({})
    r = project.run("plan", "--out", str(project.root / "plan.json"), expect=1)
    assert "refusing to delete" in r.err
    assert not (project.root / "plan.json").exists()


@pytest.mark.e2e
def test_json_format_keeps_stdout_pure(project):
    project.write({"alpha": {}})
    r = project.run("plan", "--format", "json", "--out", str(project.root / "plan.json"))
    assert json.loads(r.out)["summary"]["create"] == 1
    assert "Saved the plan" in r.err


@pytest.mark.e2e
def test_saved_plan_keeps_its_clock_a_wait_stays_a_wait(project):
    """The plan's clock is saved: a clone waited for at plan time is still waited for."""
    project.write({"alpha": {}})
    project.server.config(list_lag_ms=86_400_000)  # made, and never listed yet
    project.run("apply", "--auto-approve")
    assert "listedAt" not in project.lock()["voices"]["alpha"]
    doc = save(project, "--list-grace", "3600")
    assert [a["action"] for a in doc["plan"]["actions"]] == ["wait"]
    r = apply_saved(project)
    assert "Nothing to do now, but not converged. 1 clone made moments ago is not listed" in r.out
    assert "No changes." not in r.out and len(project.remote()) == 1  # not made twice


@pytest.mark.e2e
@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such plan file"),
        ("{not json", "not a voicectl saved plan (invalid JSON"),
        ('{"formatVersion": 1, "actions": []}', "this is `plan --format json` output"),
        ('{"kind": "voicectl-saved-plan", "formatVersion": 9}', "saved plan format 9 is not"),
        ('{"kind": "voicectl-saved-plan", "formatVersion": 2}', "damaged saved plan: "),
        (
            '{"kind": "voicectl-saved-plan", "formatVersion": 1}',
            "saved plan format 1 is not supported (this voicectl",
        ),
        ("[]", "not a voicectl saved plan"),
    ],
)
def test_bad_plan_files(project, content, message):
    project.write({"alpha": {}})
    path = project.root / "plan.json"
    if content is not None:
        path.write_text(content)
    r = apply_saved(project, expect=1)
    assert message in r.err
    assert len(r.err.strip().splitlines()) == 1


@pytest.mark.e2e
@pytest.mark.parametrize("field", ["manifest", "lockfile"])
@pytest.mark.parametrize("bad", ["voices\u0000.json", ""])
def test_a_recorded_path_that_is_no_path_is_a_damaged_plan(project, field, bad):
    project.write({"alpha": {}})
    doc = save(project)
    doc["inputs"][field]["path"] = bad
    (project.root / "plan.json").write_text(json.dumps(doc))
    line = (
        f"Error: {project.root / 'plan.json'}: damaged saved plan: "
        f"inputs.{field}.path: not a file path"
    )
    assert apply_saved(project, expect=1).err.strip().splitlines() == [line]
    shown = run_main(project.capsys, "show", str(project.root / "plan.json"))
    assert shown.code == 1 and shown.err.strip().splitlines() == [line]
    assert not project.remote() and not project.lockfile.exists()


@pytest.mark.e2e
def test_manifest_given_as_plan_file_hints_at_f(project):
    project.write({"alpha": {}})
    r = project.run("apply", str(project.manifest), expect=1)
    assert "to name the manifest, use -f" in r.err


@pytest.mark.e2e
def test_step_summary_records_a_stale_refusal(project, tmp_path, monkeypatch):
    project.write({"alpha": {}})
    save(project)
    project.write({"alpha": {"description": "late edit"}})
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    stale(project, "changed")
    text = summary.read_text()
    assert text.startswith("### voicectl apply: refused (1 error)\n") and "is stale" in text


@pytest.mark.parametrize(
    "url, safe",
    [
        ("https://user:secret@api.example.test/", "https://api.example.test"),
        ("http://127.0.0.1:8765/?token=abc#frag", "http://127.0.0.1:8765"),
        ("https://[::1]:9/base/", "https://[::1]:9/base"),
    ],
)
def test_endpoint_never_keeps_credentials(url, safe):
    assert safe_endpoint(url) == safe


@pytest.mark.e2e
def test_a_saved_plan_applied_from_another_folder(project, monkeypatch):
    """A plan records its paths as `plan` was given them. From another folder, without
    -f, apply says its manifest is not there (not a misleading --env error); with -f,
    the lockfile is the one beside that manifest, never one in the current folder."""
    project.write({"alpha": {}})
    for k, v in project.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(project.root)
    assert run_main(project.capsys, "plan", "--out", "plan.json").code == 0
    (project.root / "sub").mkdir()
    monkeypatch.chdir(project.root / "sub")
    lost = run_main(project.capsys, "apply", "../plan.json")
    assert lost.code == 1 and lost.out == ""
    assert lost.err == (
        f"Error: ../plan.json: its manifest voices.yaml does not exist from here "
        f"({project.root / 'sub'}): the plan records paths as `voicectl plan` was given "
        "them; apply it from the folder it was made in, or name the manifest with -f\n"
    )
    assert project.remote() == []
    done = run_main(project.capsys, "apply", "../plan.json", "-f", "../voices.yaml")
    assert done.code == 0, done.text
    assert set(project.ids()) == {"alpha"}  # beside the manifest
    assert list((project.root / "sub").iterdir()) == []


@pytest.mark.e2e
def test_a_saved_plan_is_refused_with_another_organisations_key(project):
    """Reviewed against one organisation's clones, a plan is never applied in another
    (a first apply has no lockfile organisation to compare: the plan's list is it)."""
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.lockfile.unlink()  # a new checkout, say: only the plan knows the organisation
    project.write({"alpha": {}, "bravo": {}})
    doc = save(project)
    [mine] = doc["inputs"]["remote"]["organizations"]
    other = "sk-another-organisation"
    theirs = project.server.seed_clone(key=other, displayName="Theirs", language="en")
    project.key = other
    r = apply_saved(project, expect=1)
    assert (
        f"the key lists the clones of organisation {theirs['organizationId']}; the plan was "
        f"made against organisation {mine} (is the key another organisation's?)"
    ) in r.err
    assert [c["displayName"] for c in project.remote()] == ["Theirs"]
    assert not project.lockfile.exists()
