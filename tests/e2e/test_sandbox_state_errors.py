"""A sandbox state file that cannot be used, through the real CLI: ``--sandbox`` (the
embedded emulator) and ``voicectl sandbox serve --state``. Each is one ``Error:`` line
that names the file and what to do (never "internal error", never a traceback), exit 1,
in the format that was asked for; ``serve`` refuses a state file it could never write
before it listens, instead of answering every create with a 500.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cli_support import Project
from sandbox_support import CLONES, ROOT, SandboxServer, multipart, until

pytestmark = pytest.mark.e2e

AFRESH = "delete it to start the sandbox afresh (it holds only emulated clones)"
MALFORMED = '{"version": 1, "orgs": {"x": {"clones": [{"a": 1}]}}}'


@pytest.fixture
def project(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    project.write({"a": {}})
    return project


def state_of(project: Project, content: str) -> Path:
    state = project.root / ".voicectl" / "sandbox.json"
    state.parent.mkdir(exist_ok=True)
    state.write_text(content)
    return state


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{bad", "not JSON (line 1, column 2: "),
        (MALFORMED, "orgs[\"x\"].clones[0]: no '_id' field"),
    ],
    ids=["not-json", "malformed-clone"],
)
@pytest.mark.parametrize("command", ["plan", "apply", "list"])
def test_a_corrupt_embedded_state_is_one_user_error(project, content, problem, command) -> None:
    state = state_of(project, content)
    args = ["--sandbox", command] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    assert r.out == ""
    [line] = r.err.splitlines()
    assert line.startswith(f"Error: {state}: cannot read the sandbox state: {problem}")
    assert line.endswith(AFRESH) and "internal error" not in line
    assert state.read_text() == content  # left as it was, for the user to look at
    assert not project.lockfile.exists()


@pytest.mark.parametrize("command", ["plan", "list"])
def test_a_corrupt_embedded_state_is_one_json_document(project, command) -> None:
    state = state_of(project, MALFORMED)
    r = project.run("--sandbox", command, "--format", "json", expect=1)
    doc = json.loads(r.out)
    name = "plan" if command == "plan" else "list"
    jsonschema.validate(doc, json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text()))
    [error] = doc["errors"]
    assert error["file"] == str(state) and "no '_id' field" in error["message"]


def test_deleting_the_state_file_starts_afresh(project) -> None:
    state = state_of(project, "{bad")
    project.run("--sandbox", "plan", expect=1)
    state.unlink()
    project.run("--sandbox", "apply", "--auto-approve")
    assert json.loads(state.read_text())["version"] == 1


# ---------------------------------------------------------------------- sandbox serve


def run_serve(*flags: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_SANDBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *flags],
        cwd=ROOT,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess) -> str:
    """The one error line of a serve that did not start."""
    assert result.returncode == 1, result
    assert result.stdout == ""  # never 'listening'
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: --state ") and "Traceback" not in result.stderr
    return line


def test_serve_refuses_a_state_file_under_a_file(tmp_path: Path) -> None:
    manifest = tmp_path / "voices.yaml"
    manifest.write_text("version: 1\n")
    line = refused(run_serve("--state", str(manifest / "x.json")))
    assert line == (
        f"Error: --state {manifest / 'x.json'}: cannot keep the sandbox state there: "
        f"{manifest} is a file, not a folder"
    )
    assert manifest.read_text() == "version: 1\n"


def test_serve_refuses_a_state_file_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    state = tmp_path / "none" / "deeper" / "x.json"
    line = refused(run_serve("--state", str(state)))
    assert (
        line == f"Error: --state {state}: the folder {state.parent} does not exist; create it first"
    )
    assert not (tmp_path / "none").exists()  # nothing was made


def test_serve_refuses_a_folder_and_a_malformed_state(tmp_path: Path) -> None:
    line = refused(run_serve("--state", str(tmp_path)))
    assert line == f"Error: --state {tmp_path}: is a folder, not a sandbox state file"
    state = tmp_path / "sandbox.json"
    state.write_text(MALFORMED)
    line = refused(run_serve("--state", str(state)))
    assert "orgs[\"x\"].clones[0]: no '_id' field" in line and line.endswith(AFRESH)


def test_serve_says_in_one_line_when_it_cannot_save_mid_run(tmp_path: Path) -> None:
    """The state file cannot be rewritten while serving (here a folder took its place;
    in life a disk filled up): that request is a 500 saying so, the log has one line
    and no traceback, the change stays in memory, and the next save writes it all."""
    state = tmp_path / "sandbox.json"
    server = SandboxServer("--state", str(state)).start()
    try:
        with server.client() as http:
            http.post(CLONES, **multipart("First")).raise_for_status()
            state.unlink()
            state.mkdir()
            r = http.post(CLONES, **multipart("Second"))
            assert r.status_code == 500
            message = r.json()["error"]
            assert message.startswith(f"{state}: cannot write the sandbox state: ")
            assert message.endswith("the change is kept in memory only until a later save succeeds")
            line = f"sandbox: {message}\n"
            until(lambda: line in server.stderr_text(), "the log line")
            assert server.stderr_text() == line  # nothing else: no traceback
            assert sorted(c["displayName"] for c in server.clones()) == ["First", "Second"]
            state.rmdir()
            http.post(CLONES, **multipart("Third")).raise_for_status()
        saved = json.loads(state.read_text())["orgs"]
        [org] = saved.values()
        assert sorted(c["displayName"] for c in org["clones"]) == ["First", "Second", "Third"]
    finally:
        server.stop()
