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
