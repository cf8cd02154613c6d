"""`voicectl show PLANFILE`: a saved plan rendered again, offline, in three formats."""

from __future__ import annotations

import json

import jsonschema
import pytest
from cli_support import Project
from sandbox_support import ROOT

from reconciler.cli import main

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def show(capsys, *args: str, expect: int = 0) -> tuple[str, str]:
    """`voicectl show ARGS` in-process, with no key and an API URL nobody answers."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SMALLEST_API_KEY", raising=False)
        mp.setenv("VOICECTL_API_URL", "http://127.0.0.1:1")
        try:
            main(["show", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code == expect, out + err
    assert "Traceback" not in out + err
    return out, err


def test_show_renders_the_saved_plan_without_the_service(project):
    project.write({"alpha": {"description": "warm", "tags": ["narration"]}})
    saved = str(project.root / "plan.json")
    planned = project.run("plan", "--out", saved).out
    planned_json = json.loads(project.run("plan", "--format", "json").out)
    text, _ = show(project.capsys, saved)
    assert text.startswith(f"Saved plan {saved}: made ")
    body = planned.split("\nSaved the plan to")[0]
    assert body.strip() in text
    assert "      file:        samples/alpha.wav (sha256 " in text
    assert '      description: "warm"' in text
    doc = json.loads(show(project.capsys, saved, "--format", "json")[0])
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert doc["actions"] == planned_json["actions"]
    md = show(project.capsys, saved, "--format", "markdown")[0]
    assert md.startswith("### voicectl plan: 1 to create, 0 to replace, 0 to delete\n")
    assert "- description: warm" in md


def test_show_refuses_what_is_not_a_saved_plan(project):
    project.write({"alpha": {}})
    _, err = show(project.capsys, str(project.manifest), expect=1)
    assert err.startswith(f"Error: {project.manifest}:1:1: not a voicectl saved plan")
    _, err = show(project.capsys, str(project.root / "missing.json"), expect=1)
    assert "no such plan file" in err


def edit_sample(path, name: str, file: str, sha256: str | None = None) -> None:
    doc = json.loads(path.read_text())
    doc["inputs"]["samples"][name]["file"] = file
    if sha256 is not None:
        doc["inputs"]["samples"][name]["sha256"] = sha256
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("edited", ["../outside.wav", "/etc/hostname", "samples/\u0000.wav"])
def test_show_refuses_a_plan_whose_sample_path_was_edited_out_of_the_folder(project, edited):
    project.write({"alpha": {}})
    saved = project.root / "plan.json"
    project.run("plan", "--out", str(saved))
    edit_sample(saved, "alpha", edited)
    out, err = show(project.capsys, str(saved), expect=1)
    (line,) = err.strip().splitlines()  # one line, as `apply plan.json` says it
    assert line.startswith(f"Error: {saved}: the sample of alpha ")
    assert "outside the manifest's folder" in line and "the plan file was edited" in line
    assert "\x00" not in line and out == ""


def test_show_refuses_a_plan_whose_sample_was_swapped_inside_the_folder(project):
    project.write({"alpha": {}, "bravo": {}})
    saved = project.root / "plan.json"
    project.run("plan", "--out", str(saved))
    bravo = json.loads(saved.read_text())["inputs"]["samples"]["bravo"]["sha256"]
    edit_sample(saved, "alpha", "samples/bravo.wav", bravo)  # hash too: no file looks changed
    out, err = show(project.capsys, str(saved), "--format", "json", expect=1)
    (line,) = err.strip().splitlines()
    assert "the sample recorded for alpha (samples/bravo.wav)" in line
    assert "the manifest's (samples/alpha.wav)" in line
    doc = json.loads(out)  # the failure in the asked-for format: one plan document
    [error] = doc["errors"]
    assert doc["actions"] == [] and line == f"Error: {error['file']}: {error['message']}"


def test_show_still_shows_a_stale_plan_and_says_apply_would_refuse_it(project):
    project.write({"alpha": {}})
    saved = project.root / "plan.json"
    project.run("plan", "--out", str(saved))
    project.write({"alpha": {"description": "changed after review"}})
    out, err = show(project.capsys, str(saved))
    assert out.startswith(f"Saved plan {saved}: made ")
    assert f"Warning: {saved} is stale: the manifest {project.manifest} changed" in err
    assert f"`voicectl apply {saved}` would refuse it" in err
