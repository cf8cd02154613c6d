"""`plan --out` and `migrate --map-out` never write over the run's own files (the
lockfile, even before it exists, its journal, the manifest) nor over a file that is
not a document of their kind (a sample, an included file, anything else): one line,
exit 1, nothing sent and nothing changed. Real CLI against `voicectl sandbox serve`.
"""

from __future__ import annotations

import json

import pytest
from sandbox_support import CLONES

pytestmark = pytest.mark.e2e


def refused(project, *args: str, line: str) -> None:
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    created = project.server.stats()["requests"].get(f"POST {CLONES}", 0)
    r = project.run(*args, expect=1)
    assert r.err.splitlines()[-1] == f"Error: {line}", r.err
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before
    assert project.server.stats()["requests"].get(f"POST {CLONES}", 0) == created


def test_plan_out_refuses_the_lockfile_even_before_it_exists(project) -> None:
    project.write({"alpha": {}})
    for path in ("voices.lock.json", ".voicectl/voices.lock.json.journal"):
        name = "the lockfile" if path.endswith(".json") else "the lockfile's journal"
        refused(
            project,
            "plan",
            "--out",
            str(project.root / path),
            line=f"--out {project.root / path}: that is {name}; writing a saved plan "
            "there would replace it (choose another path)",
        )
    assert not project.lockfile.exists()


def test_plan_out_and_map_out_keep_the_lockfile_manifest_and_samples(project) -> None:
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    for option, command, what in (
        ("--out", "plan", "a saved plan"),
        ("--map-out", "migrate", "a migration map"),
    ):
        extra = ("--auto-approve",) if command == "migrate" else ()
        for rel, name in (("voices.lock.json", "the lockfile"), ("voices.yaml", "the manifest")):
            path = project.root / rel
            refused(
                project,
                command,
                *extra,
                option,
                str(path),
                line=f"{option} {path}: that is {name}; writing {what} there would "
                "replace it (choose another path)",
            )
        sample = project.root / "samples" / "alpha.wav"
        refused(
            project,
            command,
            *extra,
            option,
            str(sample),
            line=f"{option} {sample}: the file exists and is not {what}, so it is not "
            "overwritten (remove it, or choose another path)",
        )
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_an_older_plan_or_map_and_an_empty_file_are_replaced(project) -> None:
    project.write({"alpha": {}})
    plan, empty, other = (project.root / n for n in ("plan.json", "empty.json", "map.json"))
    empty.write_bytes(b"")  # a mktemp file
    for path in (plan, plan, empty):
        project.run("plan", "--out", str(path))
        assert json.loads(path.read_text())["kind"] == "voicectl-saved-plan"
    project.run("migrate", "--auto-approve", "--map-out", str(other))
    project.run("migrate", "--auto-approve", "--map-out", str(other))
    assert set(json.loads(other.read_text())) == {"formatVersion", "voices", "ids"}
    # a saved plan is not a map, nor a map a saved plan
    refused(
        project,
        "migrate",
        "--auto-approve",
        "--map-out",
        str(plan),
        line=f"--map-out {plan}: the file exists and is not a migration map, so it is not "
        "overwritten (remove it, or choose another path)",
    )
    refused(
        project,
        "plan",
        "--out",
        str(other),
        line=f"--out {other}: the file exists and is not a saved plan, so it is not "
        "overwritten (remove it, or choose another path)",
    )
