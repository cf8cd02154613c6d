"""A read-only project folder: every command that writes a file says so in one line.

`plan --out`, `import` and `migrate --map-out` prove they can write their files
before they do anything else: one `Error:` line naming the path, exit 1, no
request that changes anything, and nothing created (no plan file, manifest,
lockfile, map or temp file left behind). The commands run as their own process
without the power to bypass file permissions (``privileges.unprivileged_prefix``:
CI may run the tests as root, and root writes anywhere).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cli_support import ROOT, Project
from privileges import unprivileged_prefix
from sandbox_support import CLONES
from test_import import legacy

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    root = tmp_path / "repo"
    root.mkdir()
    return Project(root, sandbox_server, capsys)


def run_in_read_only(project: Project, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``voicectl ARGS -f voices.yaml`` unprivileged, while ``folder`` is read-only."""
    before = sorted(p.name for p in folder.iterdir())
    env = dict(os.environ, PYTHONPATH=str(ROOT), **project.env())
    folder.chmod(0o555)
    try:
        done = subprocess.run(
            [*unprivileged_prefix(), sys.executable, "-m", "reconciler", *args],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
    finally:
        folder.chmod(0o755)
    assert "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing created, no temp file
    return done


def errors(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("Error:")]


def lists(project: Project) -> int:
    return sum(1 for line in project.server.stats()["log"] if line == f"GET {CLONES}")


def test_plan_out_into_a_read_only_folder_fails_before_listing(project):
    project.write({"alpha": {}})
    out = project.root / "plans"
    out.mkdir()
    project.server.reset_stats()
    done = run_in_read_only(project, out, "plan", "--out", "plans/plan.json", "-f", "voices.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors(done) == [
        "Error: --out plans/plan.json: cannot write the plan: Permission denied"
    ]
    assert lists(project) == 0 and done.stdout == ""


def test_import_into_a_read_only_project_folder_writes_nothing(project):
    project.server.seed_clone(displayName="Dashboard voice")
    project.server.reset_stats()
    done = run_in_read_only(project, project.root, "import", "-f", "voices.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors(done) == [
        "Error: .voicectl: cannot create the folder for the run lock: Permission denied"
    ]
    assert lists(project) == 0
    assert not project.manifest.exists() and not project.lockfile.exists()


def test_import_with_a_read_only_manifest_and_folder_is_refused_before_listing(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.server.seed_clone(displayName="Dashboard voice")
    manifest, lock = project.manifest.read_bytes(), project.lockfile.read_bytes()
    project.server.reset_stats()
    project.manifest.chmod(0o444)
    try:
        done = run_in_read_only(project, project.root, "import", "-f", "voices.yaml")
    finally:
        project.manifest.chmod(0o644)
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors(done) == [
        "Error: voices.yaml: cannot write the manifest: Permission denied; nothing was imported"
    ]
    assert lists(project) == 0  # refused before the clones were listed
    assert project.manifest.read_bytes() == manifest and project.lockfile.read_bytes() == lock


def test_migrate_map_out_into_a_read_only_folder_fails_before_any_clone_is_made(project):
    old = legacy(project, "old", project.sample("old"))
    project.run("import", "--samples", str(project.root / "samples"))
    assert project.ids() == {"old": old}  # a managed legacy clone: migrate would re-clone it
    maps = project.root / "maps"
    maps.mkdir()
    project.server.reset_stats()
    before = sorted(c["voiceId"] for c in project.remote())
    done = run_in_read_only(
        project,
        maps,
        "migrate",
        "--auto-approve",
        "--map-out",
        "maps/map.json",
        "-f",
        "voices.yaml",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors(done) == ["Error: --map-out maps/map.json: cannot write: Permission denied"]
    assert project.server.stats()["clones_created"] == 0
    assert sorted(c["voiceId"] for c in project.remote()) == before

    args = ("migrate", "--auto-approve", "--map-out", "maps/map.json", "--format", "json")
    done = run_in_read_only(project, maps, *args, "-f", "voices.yaml")
    assert done.returncode == 1
    doc = json.loads(done.stdout)  # the failure in the asked-for format: one document
    jsonschema.validate(doc, json.loads((ROOT / "schemas" / "apply.schema.json").read_text()))
    assert doc["ok"] is False and doc["outcomes"] == []
    assert [e["message"] for e in doc["errors"]] == [
        "--map-out maps/map.json: cannot write: Permission denied"
    ]
    assert project.server.stats()["clones_created"] == 0
