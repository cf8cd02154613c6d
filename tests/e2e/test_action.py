"""The GitHub Action, the example workflows and the pre-commit hook.

The action's shell step (scripts/action.sh) runs here with the environment
action.yml gives it, a temporary GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, and the
sandbox as the API. The pre-commit hook's entry runs on a good and a bad manifest
as pre-commit would run it (without needing pre-commit itself).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_support import Project
from sandbox_support import KEY, ROOT, write_wav

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "examples" / "github"


def run_step(project: Project, **inputs: str) -> tuple[subprocess.CompletedProcess, dict, str]:
    """Run action.yml's 'Run voicectl' step as the runner would, with ``inputs``."""
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "run")
    values = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    unknown = set(inputs) - set(values)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values.update(inputs)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICECTL_", "GITHUB_"))}
    for name, template in step["env"].items():
        env[name] = re.sub(
            r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], str(template)
        )
    summary = project.root / "step-summary.md"
    output = project.root / "github-output"
    summary.write_text("")
    output.write_text("")
    runner_temp = project.root / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env.update(
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
        RUNNER_TEMP=str(runner_temp),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        SMALLEST_API_KEY=KEY,
        VOICECTL_API_URL=project.server.url,
    )
    script = step["run"].replace("$GITHUB_ACTION_PATH", str(ROOT))
    cwd = project.root / values["working-directory"]
    proc = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return proc, outputs, summary.read_text()


# ----------------------------------------------------------------------------- action.yml


def test_action_is_a_composite_action_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"command", "manifest", "args", "version", "fail-on-drift", "plan-file"} <= set(
        ACTION["inputs"]
    )
    text = (ROOT / "action.yml").read_text()
    for name in re.findall(r"\$\{\{\s*inputs\.([\w-]+)", text):
        assert name in ACTION["inputs"], name
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs must reach scripts through env"
    assert set(ACTION["outputs"]) == {"exitcode", "changes", "markdown"}


@pytest.mark.e2e
def test_blank_args_add_no_argument(project):
    # `args: ${{ matrix.args }}` left blank: xargs made one empty word of "  "
    project.write({"alpha": {}})
    proc, outputs, _ = run_step(project, args=" \t ")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["exitcode"] == "2"
    assert "+ voicectl plan --detailed-exitcode -f voices.yaml\n" in proc.stdout


@pytest.mark.e2e
def test_plan_with_changes_passes_and_reports(project):
    project.write({"alpha": {}})
    proc, outputs, summary = run_step(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["exitcode"] == "2" and outputs["changes"] == "true"
    assert summary.startswith("### voicectl plan: 1 to create, 0 to replace, 0 to delete")
    assert Path(outputs["markdown"]).read_text().strip() == summary.strip()
    assert "+ voicectl plan --detailed-exitcode -f voices.yaml" in proc.stdout


@pytest.mark.e2e
def test_plan_with_drift_fails_when_asked(project):
    project.write({"alpha": {}})
    proc, outputs, summary = run_step(project, **{"fail-on-drift": "true"})
    assert proc.returncode == 1
    assert "::error::voicectl: the voice clones differ from voices.yaml" in proc.stdout
    assert outputs["changes"] == "true" and "1 to create" in summary


@pytest.mark.e2e
def test_apply_then_plan_is_clean(project):
    project.write({"alpha": {}, "bravo": {}})
    proc, outputs, summary = run_step(project, command="apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["exitcode"] == "0"
    assert "### voicectl apply: complete, 2 created, 0 replaced, 0 deleted" in summary
    assert set(project.ids()) == {"alpha", "bravo"}
    proc, outputs, summary = run_step(project, **{"fail-on-drift": "true"})
    assert proc.returncode == 0 and outputs["changes"] == "false"
    assert summary.startswith("### voicectl plan: no changes")


@pytest.mark.e2e
def test_saved_plan_round_trip_and_args_with_quotes(project):
    project.write({"alpha": {}, "bravo": {}})
    proc, outputs, _ = run_step(
        project, **{"plan-file": "plan.json", "args": "--target 'alpha' --list-grace \"0\""}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, outputs, summary = run_step(project, command="apply", **{"plan-file": "plan.json"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(project.ids()) == {"alpha"}
    assert "1 created" in summary
    proc, outputs, summary = run_step(project, command="apply", **{"plan-file": "plan.json"})
    assert proc.returncode == 1
    assert "is stale: the lockfile was created" in proc.stderr
    assert summary.startswith("### voicectl apply: refused")


@pytest.mark.e2e
def test_errors_fail_the_step(project):
    project.write({"alpha": {"file": "samples/missing.wav"}})
    proc, outputs, _ = run_step(project)
    assert proc.returncode == 1 and outputs["exitcode"] == "1"
    assert "samples/missing.wav does not exist" in proc.stderr
    assert "::error::voicectl plan failed (exit 1)" in proc.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"command": "destroy"}, "command must be plan or apply, not 'destroy'"),
        ({"fail-on-drift": "yes"}, "fail-on-drift must be true or false"),
        ({"args": "--target 'alpha"}, "cannot split args"),
    ],
)
def test_bad_inputs_fail_clearly(project, inputs, message):
    project.write({"alpha": {}})
    proc, _, _ = run_step(project, **inputs)
    assert proc.returncode == 1 and message in proc.stdout
    assert project.remote() == []


@pytest.mark.e2e
def test_working_directory_and_manifest_inputs(project):
    sub = project.root / "voices"
    sub.mkdir()
    write_wav(sub / "samples" / "a.wav", seconds=6)
    (sub / "conf.yaml").write_text(
        "version: 1\nstack: sub\nvoices:\n  a: {file: samples/a.wav, language: en}\n"
    )
    proc, outputs, _ = run_step(
        project, **{"working-directory": "voices", "manifest": "conf.yaml", "command": "apply"}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (sub / "voices.lock.json").exists()


# ----------------------------------------------------------------------------- workflows


def workflow(name: str) -> dict:
    doc = yaml.safe_load((EXAMPLES / name).read_text())
    doc["on"] = doc.pop("on", None) or doc.pop(True)  # YAML 1.1 reads `on` as true
    return doc


def action_steps(doc: dict) -> list[dict]:
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if s.get("uses", "").split("@")[0].endswith("/voicectl")]
    for step in ours:
        assert set(step.get("with", {})) <= set(ACTION["inputs"]), step
    return ours


def test_plan_workflow_runs_on_pull_requests_and_comments():
    doc = workflow("plan.yml")
    assert "pull_request" in doc["on"]
    (step,) = action_steps(doc)
    assert step["with"]["command"] == "plan"
    assert doc["permissions"]["pull-requests"] == "write"
    assert "gh pr comment" in (EXAMPLES / "plan.yml").read_text()


def test_apply_workflow_never_overlaps_and_commits_the_lockfile():
    doc = workflow("apply.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"] == {"group": "voicectl-apply", "cancel-in-progress": False}
    plan, apply = action_steps(doc)
    assert (plan["with"]["command"], apply["with"]["command"]) == ("plan", "apply")
    assert plan["with"]["plan-file"] == apply["with"]["plan-file"]
    commit = doc["jobs"]["apply"]["steps"][-1]
    assert "git add voices.lock.json" in commit["run"] and "git push" in commit["run"]
    assert doc["permissions"]["contents"] == "write"
    assert "voices.lock.json" not in doc["on"]["push"]["paths"]  # its own commit: no loop


def test_drift_workflow_is_nightly_and_fails_on_drift():
    doc = workflow("drift.yml")
    assert doc["on"]["schedule"][0]["cron"]
    (step,) = action_steps(doc)
    assert step["with"]["command"] == "plan" and step["with"]["fail-on-drift"] == "true"


# ----------------------------------------------------------------------------- pre-commit


HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def run_hook(cwd: Path, files: list[str]) -> subprocess.CompletedProcess | None:
    """What pre-commit does for these changed files: nothing, or run the entry once."""
    (hook,) = [h for h in HOOKS if h["id"] == "voicectl-validate"]
    if not any(re.search(hook["files"], f) for f in files):
        return None
    argv = shlex.split(hook["entry"]) + list(hook.get("args", []))
    if hook.get("pass_filenames", True):
        argv += files
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_hook_passes_a_good_manifest(tmp_path):
    write_wav(tmp_path / "samples" / "a.wav", seconds=6)
    (tmp_path / "voices.yaml").write_text(
        "version: 1\nvoices:\n  a: {file: samples/a.wav, language: en}\n"
    )
    proc = run_hook(tmp_path, ["voices.yaml"])
    assert proc is not None and proc.returncode == 0, proc.stderr
    assert "voices.yaml is valid: 1 voice" in proc.stdout


def test_hook_fails_a_bad_manifest_with_the_place(tmp_path):
    (tmp_path / "voices.yaml").write_text(
        "version: 1\nvoices:\n  a: {file: samples/nope.wav, language: en}\n"
    )
    proc = run_hook(tmp_path, ["samples/other.wav"])  # a changed sample triggers it too
    assert proc is not None and proc.returncode == 1
    assert "voices.yaml:3:" in proc.stderr and "samples/nope.wav does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_hook_ignores_unrelated_files(tmp_path):
    assert run_hook(tmp_path, ["README.md", "src/app.py", "voices.yaml.bak"]) is None
    (hook,) = HOOKS
    assert re.search(hook["files"], "config/voices.yml")
    # an included squad file (the README's split layout) and a sample outside samples/
    assert re.search(hook["files"], "voices.d/support.yaml")
    assert re.search(hook["files"], "examples/narrator.wav")
    assert not re.search(hook["files"], "docs/voices.d.md")
