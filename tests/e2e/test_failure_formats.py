"""Every failure in the format that was asked for, through the real CLI.

``--format json`` prints exactly one document of the command's versioned shape
(validated against schemas/) with the failure in ``errors``; ``--format markdown``
and ``GITHUB_STEP_SUMMARY`` get a report that says what failed; ``validate
--format github`` prints workflow annotations; the Action's script on a failing
manifest leaves a non-empty report and annotations.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cli_support import Project
from sandbox_support import ROOT

pytestmark = pytest.mark.e2e

SCHEMAS = ROOT / "schemas"
PLAN_SCHEMA = json.loads((SCHEMAS / "plan.schema.json").read_text())
APPLY_SCHEMA = json.loads((SCHEMAS / "apply.schema.json").read_text())
VALIDATE_SCHEMA = json.loads((SCHEMAS / "validate.schema.json").read_text())

BROKEN = (
    "version: 1\nstack: e2e\nvoices:\n  a:\n    file: samples/a.wav\n"
    "    dispalyName: A\n  b:\n    file: samples/b.wav\n"
)


@pytest.fixture
def project(project, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    project.sample("a")
    project.sample("b")
    return project


def one_document(out: str) -> dict:
    doc = json.loads(out)  # exactly one document: json.loads refuses trailing data
    assert isinstance(doc, dict)
    return doc


def broken(project: Project) -> None:
    project.manifest.write_text(BROKEN)


EXPECTED_ERROR = {
    "file": None,  # filled per test (the manifest as given)
    "line": 6,
    "column": 5,
    "path": "voices.a.dispalyName",
    "message": "unknown field 'dispalyName' (did you mean 'displayName'?)",
}
EXPECTED_WARNING_MESSAGE = (
    "no language set; the service strongly advises one (set it here or in defaults)"
)


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_invalid_manifest_is_one_json_document(project, command):
    broken(project)
    args = [command, "--format", "json"] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, PLAN_SCHEMA if command == "plan" else APPLY_SCHEMA)
    errors = doc["errors"]
    assert errors == [dict(EXPECTED_ERROR, file=str(project.manifest))]
    warnings = doc["warnings"] if command == "plan" else doc["plan"]["warnings"]
    assert [w["message"] for w in warnings] == [EXPECTED_WARNING_MESSAGE]
    assert [(w["line"], w["column"], w["path"]) for w in warnings] == [(7, 3, "voices.b")]
    if command == "apply":
        assert doc["ok"] is False and doc["outcomes"] == []
    assert "Error: " in r.err  # and the one-line error on stderr, as in text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_unreachable_server_is_one_json_document_naming_the_url(project, command):
    project.write({"a": {}})
    url = f"http://127.0.0.1:{closed_port()}"
    project.env = lambda: {"SMALLEST_API_KEY": project.key, "VOICECTL_API_URL": url}
    args = [command, "--format", "json"] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, PLAN_SCHEMA if command == "plan" else APPLY_SCHEMA)
    [error] = doc["errors"]
    assert error["file"] is None and error["line"] is None
    assert error["message"].startswith(f"list clones: connection to {url} failed")


def test_manifest_warnings_reach_plan_json_and_markdown(project):
    project.write({"a": {}})
    project.manifest.write_text(project.manifest.read_text().replace("language: en\n", ""))
    doc = one_document(project.run("plan", "--format", "json").out)
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert [w["message"] for w in doc["warnings"]] == [EXPECTED_WARNING_MESSAGE]
    assert doc["warnings"][0]["path"] == "voices.a" and doc["warnings"][0]["line"] == 4
    md = project.run("plan", "--format", "markdown").out
    assert "> **Warning:** " in md and "no language set" in md


def test_refused_apply_is_one_json_document_with_its_plan(project):
    project.write({"a": {"protect": True}})
    project.run("apply", "--auto-approve")
    project.write({})  # deleting a protected voice: refused
    r = project.run("apply", "--auto-approve", "--format", "json", expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, APPLY_SCHEMA)
    assert doc["ok"] is False and doc["outcomes"] == []
    assert doc["plan"]["errors"] and doc["errors"]
    assert "protect" in doc["errors"][0]["message"]
    assert project.owned() and len(project.owned()["a"]) == 1  # nothing was deleted


def hold_lock(project: Project) -> subprocess.Popen:
    """Another process holding the apply lock (as a running apply does)."""
    lock = project.root / ".voicectl" / "voices.lock.json.lock"
    lock.parent.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock; l = filelock.FileLock(sys.argv[1]); l.acquire(); "
            "print('held', flush=True); sys.stdin.read()",
            str(lock),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_held_by_another_apply_is_one_json_document(project):
    project.write({"a": {}})
    holder = hold_lock(project)
    try:
        r = project.run("apply", "--auto-approve", "--format", "json", expect=1)
    finally:
        holder.stdin.close()
        holder.wait()
    doc = one_document(r.out)
    jsonschema.validate(doc, APPLY_SCHEMA)
    [error] = doc["errors"]
    assert "lock" in error["message"]
    assert project.remote() == []


def test_stale_saved_plan_is_one_json_document(project):
    project.write({"a": {}})
    project.run("plan", "--out", str(project.root / "plan.json"))
    project.write({"a": {}, "b": {}})
    r = project.run("apply", str(project.root / "plan.json"), "--format", "json", expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, APPLY_SCHEMA)
    [error] = doc["errors"]
    assert "is stale" in error["message"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["garbled.json"], "not a voicectl saved plan"),
        (["plan.json", "--target", "a"], "--target cannot be used with a saved plan"),
        (["--env", "prod"], "declares no environments"),
    ],
    ids=["unreadable-plan", "option-the-plan-fixes", "unknown-env"],
)
def test_apply_problems_before_the_run_are_one_document_and_a_summary(
    project, monkeypatch, args, message
):
    """Found before anything is listed (the saved plan, the environment): still one
    JSON document, and with markdown a report and a job summary."""
    project.write({"a": {}})
    project.run("plan", "--out", str(project.root / "plan.json"))
    (project.root / "garbled.json").write_text('{"kind":')
    args = [str(project.root / a) if a.endswith(".json") else a for a in args]
    r = project.run("apply", *args, "--format", "json", expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, APPLY_SCHEMA)
    assert doc["ok"] is False
    [error] = doc["errors"]
    assert message in error["message"]
    summary = project.root / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = project.run("apply", *args, "--format", "markdown", expect=1)
    assert r.out.startswith("### voicectl apply: failed (1 error)\n")
    assert summary.read_text().startswith("### voicectl apply: failed (1 error)\n")


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_markdown_and_step_summary_report_the_failure(project, monkeypatch, command):
    broken(project)
    summary = project.root / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    args = [command, "--format", "markdown"] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    assert r.out.startswith(f"### voicectl {command}: failed (1 error)\n")
    assert "unknown field" in r.out and "Nothing was changed." in r.out
    assert "no language set" in r.out  # the warnings too
    assert summary.read_text().startswith(f"### voicectl {command}: failed (1 error)\n")


def test_text_plan_failure_also_reaches_the_step_summary(project, monkeypatch):
    broken(project)
    summary = project.root / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = project.run("plan", expect=1)
    assert r.out == ""
    assert "unknown field" in summary.read_text() and "dispalyName" in summary.read_text()


# ----------------------------------------------------------------------------- validate


def test_validate_json_invalid_and_valid(project):
    broken(project)
    r = project.run("validate", "--format", "json", expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, VALIDATE_SCHEMA)
    assert doc["valid"] is False and doc["stack"] is None
    assert doc["errors"] == [dict(EXPECTED_ERROR, file=str(project.manifest))]
    assert len(doc["warnings"]) == 1
    project.write({"a": {}})
    doc = one_document(project.run("validate", "--format", "json").out)
    jsonschema.validate(doc, VALIDATE_SCHEMA)
    assert doc == {
        "formatVersion": 1,
        "valid": True,
        "manifest": str(project.manifest),
        "stack": "e2e",
        "voices": 1,
        "errors": [],
        "warnings": [],
    }


def test_validate_json_missing_manifest(project):
    r = project.run("validate", "--format", "json", "-f", str(project.root / "nope.yaml"), expect=1)
    doc = one_document(r.out)
    jsonschema.validate(doc, VALIDATE_SCHEMA)
    assert doc["errors"][0]["message"] == "the manifest does not exist"
    assert doc["errors"][0]["file"] == str(project.root / "nope.yaml")


def test_validate_github_annotations(project):
    project.manifest.write_text(BROKEN.replace("dispalyName: A", 'displayName: "a,b%\\n"'))
    r = project.run("validate", "--format", "github", expect=1)
    name = str(project.manifest).replace(":", "%3A").replace(",", "%2C")
    assert r.out.splitlines() == [
        f"::warning file={name},line=7,col=3::voices.b: {EXPECTED_WARNING_MESSAGE}",
        f"::error file={name},line=6,col=18::voices.a.displayName: a displayName must be "
        "one line, without control characters (it holds LF (U+000A))",
    ]
    assert r.err.strip() == f"Error: 1 problem in {project.manifest}"


def test_validate_github_percent_and_newline_are_escaped(project):
    project.manifest.write_text(
        'version: 1\nstack: e2e\nvoices:\n  a:\n    file: "samples/100%\\n.wav"\n    language: en\n'
    )
    r = project.run("validate", "--format", "github", expect=1)
    name = str(project.manifest).replace(":", "%3A").replace(",", "%2C")
    assert r.out.splitlines() == [
        f"::error file={name},line=5,col=11::voices.a.file: samples/100%25 .wav does not exist"
    ]


# ----------------------------------------------------------------------------- the Action


def test_action_on_a_failing_manifest_leaves_a_report_and_annotations(project):
    from test_action import run_step

    broken(project)
    proc, outputs, summary = run_step(project, command="plan", manifest=project.manifest.name)
    assert proc.returncode == 1
    assert "::error file=voices.yaml,line=6,col=5::voices.a.dispalyName: unknown field" in (
        proc.stdout
    )
    report = Path(outputs["markdown"]).read_text()
    assert report.startswith("### voicectl plan: failed (1 error)\n")
    assert "unknown field" in report
    assert summary.startswith("### voicectl plan: failed (1 error)\n")


def test_validate_names_the_included_file_its_problems_are_in(project):
    (project.root / "voices.d").mkdir()
    (project.root / "voices.d" / "a.yaml").write_text(
        "voices:\n  x: {file: ../samples/none.wav, language: en}\n"
    )
    project.manifest.write_text("version: 1\ninclude: [voices.d/a.yaml]\nvoices: {}\n")
    r = project.run("validate", expect=1)
    *problems, summary = r.err.splitlines()
    assert problems[0].endswith("voices.x.file: ../samples/none.wav does not exist")
    assert summary.startswith("Error: 1 problem in ") and summary.endswith("voices.d/a.yaml")
