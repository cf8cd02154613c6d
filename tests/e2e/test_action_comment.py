"""The Action's comment mode: one living PR comment per manifest and environment.

The action's 'Run voicectl' step runs as the runner would (inputs through env),
against the sandbox, with a stand-in `gh` first on PATH: it keeps the pull
request's comments in a JSON file, answers `gh api` as GitHub would (the comment
list in two pages), and records every call it gets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import Project
from sandbox_support import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
BIN = Path(sys.executable).parent
STAGING_KEY = "sk-sandbox-tests-comment-staging"
PROD_KEY = "sk-sandbox-tests-comment-prod"

STANDIN_GH = r'''#!PYTHON
"""A stand-in for the gh CLI: `gh api` on issue comments, recorded."""
import json, os, sys

state_path, log_path = os.environ["GH_STANDIN_STATE"], os.environ["GH_STANDIN_LOG"]
args = sys.argv[1:]
state = json.load(open(state_path)) if os.path.exists(state_path) else {"next": 100, "comments": []}
entry = {"args": args, "token": bool(os.environ.get("GH_TOKEN"))}
for a in args:
    if a.startswith("body=@"):
        entry["body"] = open(a[len("body=@"):], encoding="utf-8").read()
with open(log_path, "a") as log:
    log.write(json.dumps(entry) + "\n")
if args[:1] != ["api"]:
    sys.exit("stand-in gh: only `gh api` is emulated")
method = args[args.index("-X") + 1] if "-X" in args else "GET"
path = next(a for a in args[1:] if a.startswith("repos/"))
parts = path.split("/")
if method == "GET" and parts[3::2] == ["issues", "comments"] and parts[4].isdigit():
    assert "--paginate" in args
    comments = state["comments"]
    half = len(comments) // 2
    for page in (comments[:half], comments[half:]):  # two pages, as --paginate prints them
        sys.stdout.write(json.dumps(page))
elif method == "POST" and parts[3::2] == ["issues", "comments"] and parts[4].isdigit():
    state["comments"].append({"id": state["next"], "body": entry["body"], "user": {"login": "bot"}})
    state["next"] += 1
elif method == "PATCH" and parts[3:5] == ["issues", "comments"]:
    comment = next(c for c in state["comments"] if str(c["id"]) == parts[5])
    comment["body"] = entry["body"]
else:
    sys.exit(f"stand-in gh: unexpected call {args}")
json.dump(state, open(state_path, "w"))
'''


class CommentRig:
    def __init__(self, project: Project, tmp: Path):
        self.project = project
        self.bin = tmp / "fake-bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(STANDIN_GH.replace("PYTHON", sys.executable))
        gh.chmod(0o755)
        self.state = tmp / "gh-state.json"
        self.log = tmp / "gh-log.jsonl"
        self.event = tmp / "event.json"
        self.event.write_text(json.dumps({"pull_request": {"number": 42}}))

    def comments(self) -> list[dict[str, Any]]:
        return json.loads(self.state.read_text())["comments"] if self.state.exists() else []

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def step(self, **inputs: str) -> subprocess.CompletedProcess:
        step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "run")
        values = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        values.update({"github-token": "ghs_test_token", **inputs})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICECTL_", "GITHUB_"))}
        for name, template in step["env"].items():
            env[name] = re.sub(
                r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], str(template)
            )
        root = self.project.root
        (root / "runner-temp").mkdir(exist_ok=True)
        env.update(
            GITHUB_ACTION_PATH=str(ROOT),
            GITHUB_STEP_SUMMARY=str(root / "summary.md"),
            GITHUB_OUTPUT=str(root / "github-output"),
            GITHUB_EVENT_PATH=str(self.event),
            GITHUB_REPOSITORY="acme/voices",
            GITHUB_SHA="0123abc",
            RUNNER_TEMP=str(root / "runner-temp"),
            PATH=f"{self.bin}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}",
            GH_STANDIN_STATE=str(self.state),
            GH_STANDIN_LOG=str(self.log),
            KEY_STAGING=STAGING_KEY,
            KEY_PROD=PROD_KEY,
            VOICECTL_API_URL=self.project.server.url,
        )
        env.pop("SMALLEST_API_KEY", None)
        script = step["run"].replace("$GITHUB_ACTION_PATH", str(ROOT))
        return subprocess.run(
            ["bash", "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def rig(tmp_path: Path, sandbox_server, capsys) -> CommentRig:
    repo = tmp_path / "repo"
    repo.mkdir()
    project = Project(repo, sandbox_server, capsys)
    project.sample("narrator")
    project.manifest.write_text(
        textwrap.dedent("""
        version: 1
        stack: team
        environments:
          staging: {apiKeyEnv: KEY_STAGING}
          prod: {apiKeyEnv: KEY_PROD}
        voices:
          narrator: {file: samples/narrator.wav, language: en}
    """).lstrip()
    )
    return CommentRig(project, tmp_path)


@pytest.mark.e2e
def test_one_comment_per_environment_created_then_updated_in_place(rig: CommentRig) -> None:
    proc = rig.step(comment="true", environment="staging")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::warning::" not in proc.stdout, proc.stdout + proc.stderr
    calls = rig.calls()
    assert [c["args"][:3] for c in calls] == [
        ["api", "--paginate", "repos/acme/voices/issues/42/comments"],
        ["api", "-X", "POST"],
    ]
    assert calls[1]["args"][3] == "repos/acme/voices/issues/42/comments"
    assert all(c["token"] for c in calls)  # github-token reaches gh as GH_TOKEN
    (comment,) = rig.comments()
    assert comment["body"].startswith("<!-- voicectl-comment: voices.yaml@staging -->\n")
    assert "1 to create" in comment["body"], comment["body"]
    assert "Manifest: voices.yaml \\(staging\\)" in comment["body"], comment["body"]
    assert "0123abc" in comment["body"]

    # prod gets its own comment; staging's is left alone
    proc = rig.step(comment="true", environment="prod")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [c["id"] for c in rig.comments()] == [100, 101]
    assert "<!-- voicectl-comment: voices.yaml@prod -->" in rig.comments()[1]["body"]

    # staging is applied; the next push updates the same comment: no changes
    proc = rig.step(command="apply", environment="staging")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = len(rig.calls())
    proc = rig.step(comment="true", environment="staging")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = rig.calls()[before:]
    assert [c["args"][:4] for c in new] == [
        ["api", "--paginate", "repos/acme/voices/issues/42/comments"],
        ["api", "-X", "PATCH", "repos/acme/voices/issues/comments/100"],
    ]
    staging, prod = rig.comments()
    assert staging["id"] == 100 and "No changes" in staging["body"]
    assert "1 to create" not in staging["body"]
    assert "1 to create" in prod["body"]  # untouched
    assert "updated the pull request comment" in proc.stdout


@pytest.mark.e2e
def test_a_reply_quoting_our_comment_is_never_edited(rig: CommentRig) -> None:
    assert rig.step(comment="true", environment="staging").returncode == 0
    (ours,) = rig.comments()
    state = json.loads(rig.state.read_text())
    quote = "".join(f"> {line}\n" for line in ours["body"].splitlines()) + "\nWhy two?"
    reply = {"id": 99, "body": quote, "user": {"login": "alice"}}
    state["comments"].insert(0, reply)  # before ours, so a search by content finds it first
    rig.state.write_text(json.dumps(state))
    before = len(rig.calls())
    assert rig.step(comment="true", environment="staging").returncode == 0
    assert rig.calls()[before + 1]["args"][:4] == [
        "api", "-X", "PATCH", f"repos/acme/voices/issues/comments/{ours['id']}"
    ]  # fmt: skip
    assert rig.comments()[0] == reply


@pytest.mark.e2e
def test_no_comment_outside_a_pull_request_and_bad_input(rig: CommentRig) -> None:
    rig.event.write_text(json.dumps({"push": {}}))
    proc = rig.step(comment="true", environment="staging")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not a pull request" in proc.stdout and rig.calls() == []
    proc = rig.step(comment="yes", environment="staging")
    assert proc.returncode == 1 and "comment must be true or false" in proc.stdout
    proc = rig.step(environment="staging")  # comment mode off: gh is never called
    assert proc.returncode == 0 and rig.calls() == []


@pytest.mark.e2e
def test_a_failed_plan_says_so_in_the_comment(rig: CommentRig) -> None:
    proc = rig.step(comment="true", environment="qa")
    assert proc.returncode == 1
    (comment,) = rig.comments()
    assert "voices.yaml@qa" in comment["body"]
    assert "**voicectl plan failed (exit 1)**" in comment["body"]


# ---------------------------------------------------------------- examples/github/environments


def _workflow(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "github" / "environments" / name).read_text())
    doc["on"] = doc.pop("on", None) or doc.pop(True)  # YAML 1.1 reads `on` as true
    return doc


def _ours(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [s for s in job["steps"] if s.get("uses", "").split("@")[0].endswith("/voicectl")]
    for step in steps:
        assert set(step.get("with", {})) <= set(ACTION["inputs"]), step
        assert step["with"]["environment"] == "${{ matrix.environment }}"
    return steps


def test_the_environment_matrix_examples() -> None:
    plan = _workflow("plan.yml")
    job = plan["jobs"]["plan"]
    assert job["strategy"]["matrix"]["environment"] == ["staging", "prod"]
    (step,) = _ours(job)
    assert step["with"]["comment"] == "true" and step["with"]["command"] == "plan"
    assert plan["permissions"]["pull-requests"] == "write"
    assert set(step["env"]) == {"SMALLEST_API_KEY_STAGING", "SMALLEST_API_KEY_PROD"}

    apply = _workflow("apply.yml")
    job = apply["jobs"]["apply"]
    assert apply["on"]["push"]["branches"] == ["main"]
    assert job["concurrency"] == {
        "group": "voicectl-apply-${{ matrix.environment }}",
        "cancel-in-progress": False,
    }
    assert job["strategy"]["max-parallel"] == 1  # staging, then prod
    plan_step, apply_step = _ours(job)
    assert (plan_step["with"]["command"], apply_step["with"]["command"]) == ("plan", "apply")
    assert "voices.${{ matrix.environment }}.lock.json" in job["steps"][-1]["env"]["LOCKFILE"]

    drift = _workflow("drift.yml")
    job = drift["jobs"]["drift"]
    assert "schedule" in drift["on"]
    assert job["concurrency"]["group"] == "voicectl-apply-${{ matrix.environment }}"
    (step,) = _ours(job)
    assert step["with"]["fail-on-drift"] == "true"


def test_the_teams_example_plans_both_environments_in_the_sandbox(tmp_path: Path, capsys) -> None:
    from reconciler.cli import main

    examples = ROOT / "examples"
    for name in ("teams.yaml", "narrator.wav", "support-agent.mp3", "asistente-es.wav"):
        (tmp_path / name).write_bytes((examples / name).read_bytes())
    (tmp_path / "teams.d").mkdir()
    (tmp_path / "teams.d" / "support.yaml").write_bytes(
        (examples / "teams.d" / "support.yaml").read_bytes()
    )
    manifest = str(tmp_path / "teams.yaml")

    def run(*args: str) -> int:
        capsys.readouterr()
        try:
            main([*args, "-f", manifest])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    assert run("--sandbox", "apply", "--env", "staging", "--auto-approve") == 0
    assert run("--sandbox", "plan", "--all-envs", "--detailed-exitcode") == 2
    rows = [line.split()[:4] for line in capsys.readouterr().out.split("\n\n")[0].splitlines()]
    assert rows[2:] == [["staging", "0", "0", "0"], ["prod", "2", "0", "0"]]
    assert (tmp_path / "voices.staging.lock.json").exists()
