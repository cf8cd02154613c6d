"""``list``, ``check``, ``doctor``, ``refresh``, ``samples`` and ``show`` fail in the
format that was asked for.

With ``--json`` / ``--format json`` a failure (no key, an unknown environment, no
lockfile, an unreachable service) still prints exactly one document of the command's
own shape on stdout (validated against schemas/), with the failure in ``errors``, then
the one ``Error:`` line on stderr, as plan and apply do. These commands never write a
job summary, not even on failure. Success documents carry ``"errors": []``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import jsonschema
import pytest
from cli_support import Project, run_main
from sandbox_support import ROOT

from reconciler.cli.failures import FailureReport
from reconciler.render.check import failed_checks_json
from reconciler.render.clips import failed_samples_json
from reconciler.render.doctor import failed_doctor_json
from reconciler.render.environments import failed_all_json
from reconciler.render.inventory import failed_inventory_json
from reconciler.render.problems import failed_plan_json
from reconciler.render.refresh import failed_refresh_json

pytestmark = pytest.mark.e2e

SCHEMAS = ROOT / "schemas"
NO_KEY = "SMALLEST_API_KEY is not set: export your Waves API key"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def one_document(out: str, name: str) -> dict:
    doc = json.loads(out)  # exactly one document: json.loads refuses trailing data
    jsonschema.Draft202012Validator(schema(name)).validate(doc)
    return doc


@pytest.fixture
def project(project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    monkeypatch.delenv("VOICECTL_ENV", raising=False)
    monkeypatch.delenv("SMALLEST_API_KEY", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    project.write({"a": {}})
    return project


def without_key(project: Project) -> None:
    url = project.server.url
    project.env = lambda: {"VOICECTL_API_URL": url}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


COMMANDS = [  # (args, schema)
    (("list", "--json"), "list"),
    (("list", "--format", "json"), "list"),
    (("check", "--json"), "check"),
    (("doctor", "--json"), "doctor"),
    (("doctor", "--format", "json"), "doctor"),
    (("refresh", "--format", "json"), "refresh"),
]
# samples needs no key (the clips' URLs are in the lockfile): no lockfile, no environment
SAMPLES = [(("samples", "--json"), "samples"), (("samples", "--format", "json"), "samples")]


@pytest.mark.parametrize(("args", "name"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_no_key_is_one_json_document(project: Project, tmp_path: Path, args, name) -> None:
    project.run("apply", "--auto-approve")  # a lockfile, so check and refresh get to the key
    (tmp_path / "summary.md").unlink()  # apply's own report
    without_key(project)
    project.server.reset_stats()
    r = project.run(*args, expect=1)
    doc = one_document(r.out, name)
    [error] = doc["errors"]
    assert error["message"].startswith(NO_KEY)
    assert r.err.splitlines() == [f"Error: {error['message']}"]
    assert project.server.stats()["requests"] == {}
    assert not (tmp_path / "summary.md").exists()  # these commands never write one
    if name == "list":
        assert doc["clones"] == [] and doc["summary"]["total"] == 0
    if name == "check":
        assert doc["ok"] is False and doc["voices"] == [] and doc["probe"] is False
    if name == "doctor":
        assert doc["ok"] is False and doc["checks"] == [] and doc["world"] is None
    if name == "refresh":
        assert doc["written"] is False and doc["serial"] is None
        assert doc["lockfile"] == str(project.lockfile)


@pytest.mark.parametrize(
    ("args", "name"), COMMANDS + SAMPLES, ids=[" ".join(a) for a, _ in COMMANDS + SAMPLES]
)
def test_an_unknown_environment_is_one_json_document(project: Project, args, name) -> None:
    r = project.run(*args, "--env", "nope", expect=1)
    doc = one_document(r.out, name)
    [error] = doc["errors"]
    assert "environment 'nope'" in error["message"] and "declares no environments" in r.err
    if name == "refresh":
        assert doc["lockfile"] is None  # not chosen yet


@pytest.mark.parametrize(
    ("args", "name", "message"),
    [
        (("check", "--json"), "check", "no lockfile yet"),
        (("refresh", "--format", "json"), "refresh", "no lockfile yet"),
        (("samples", "--json"), "samples", "no lockfile yet"),
    ],
)
def test_no_lockfile_is_one_json_document(project: Project, args, name, message) -> None:
    r = project.run(*args, expect=1)
    doc = one_document(r.out, name)
    [error] = doc["errors"]
    assert error["file"] == str(project.lockfile) and error["message"].startswith(message)


def test_an_unreachable_service_is_one_list_document_naming_the_url(project: Project) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    key = project.key
    project.env = lambda: {"SMALLEST_API_KEY": key, "VOICECTL_API_URL": url}
    r = project.run("list", "--json", expect=1)
    doc = one_document(r.out, "list")
    [error] = doc["errors"]
    assert f"connection to {url} failed" in error["message"]


def test_show_of_a_plan_file_it_cannot_read_is_one_plan_document(project: Project) -> None:
    bad = project.root / "plan.json"
    bad.write_text("{not json")
    r = run_main(project.capsys, "show", str(bad), "--format", "json")
    assert r.code == 1
    doc = one_document(r.out, "plan")
    [error] = doc["errors"]
    assert doc["actions"] == [] and "not a voicectl saved plan" in error["message"]
    assert r.err.splitlines() == [f"Error: {bad}:1:2: {error['message']}"]
    markdown = run_main(project.capsys, "show", str(bad), "--format", "markdown")
    assert markdown.code == 1 and markdown.out.startswith("### voicectl show: failed (1 error)")


def test_text_failures_print_nothing_on_stdout(project: Project) -> None:
    without_key(project)
    for command in ("list", "doctor"):
        r = project.run(command, expect=1)
        assert r.out == "" and r.err.startswith(f"Error: {NO_KEY}")


def test_success_documents_carry_an_empty_errors_list(project: Project) -> None:
    project.run("apply", "--auto-approve")
    for args, name in COMMANDS:
        doc = one_document(project.run(*args, expect=None).out, name)
        assert doc["errors"] == [], args


# ------------------------------------------------------------------------------ unit


def test_every_failure_document_matches_its_schema() -> None:
    errors = ["voices.yaml:3:5: voices.a.file: gone", "no key"]
    docs = {
        "list": failed_inventory_json(errors),
        "check": failed_checks_json(errors, probed=True),
        "doctor": failed_doctor_json(errors),
        "refresh": failed_refresh_json(errors, Path("voices.lock.json")),
        "plan-all-envs": failed_all_json(errors),
        "samples": failed_samples_json(errors),
        "plan": failed_plan_json(errors, []),  # show --format json
    }
    for name, doc in docs.items():
        jsonschema.Draft202012Validator(schema(name)).validate(doc)
        assert doc["errors"][0] == {
            "file": "voices.yaml",
            "line": 3,
            "column": 5,
            "path": None,
            "message": "voices.a.file: gone",
        }, name
        assert doc["errors"][1]["message"] == "no key"


def test_plan_all_envs_failure_report_is_its_own_document(capsys) -> None:
    """What ``plan --all-envs --format json`` prints once its run is wrapped in
    ``FailureReport("plan --all-envs", ...)`` (cli/plan.py)."""
    FailureReport("plan --all-envs", "json", step_summary=False).report(["no key"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(schema("plan-all-envs")).validate(doc)
    assert doc["environments"] == [] and doc["errors"][0]["message"] == "no key"


def test_plan_all_envs_failure_is_one_json_document(tmp_path, sandbox_server, capsys) -> None:
    from test_e2e_environments import EnvProject

    project = EnvProject(tmp_path, sandbox_server, capsys, keys={})  # no key variable set
    project.setup()
    r = project.run("plan", "--all-envs", "--format", "json", expect=1)
    doc = one_document(r.out, "plan-all-envs")
    assert doc["environments"] == [] and "are not set" in doc["errors"][0]["message"]


@pytest.mark.parametrize("fmt", [["--format", "json"], ["--format=json"]])
def test_a_bad_flag_of_plan_is_a_json_document_and_a_job_summary(
    project: Project, tmp_path: Path, fmt
) -> None:
    """click refuses the command line: `plan --format json | jq` still gets one plan
    document, and the job summary says why (they were empty)."""
    summary = tmp_path / "summary.md"
    summary.unlink(missing_ok=True)
    r = project.run("--api-url", project.server.url, "plan", "--parallelism", "0", *fmt, expect=1)
    doc = one_document(r.out, "plan")
    [error] = doc["errors"]
    assert error["message"] == "Invalid value for '--parallelism': 0 is not in the range 1<=x<=64."
    assert r.err.rstrip().endswith(f"Error: {error['message']}")
    assert "Invalid value for" in summary.read_text()
