"""Every versioned JSON output validates against its committed schema (schemas/*.json);
test_schemas.py keeps those files equal to the models (the drift check)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from cli_support import Project
from test_migrate import import_all, seeded_org
from test_show import show

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def valid(name: str, doc: dict) -> dict:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


@pytest.mark.e2e
def test_list_check_refresh_and_the_migration_map_match_their_schemas(project, tmp_path):
    seeded_org(project, n_legacy=2)
    listing = valid("list", json.loads(project.run("list", "--json").out))
    assert listing["summary"]["unmanaged"] == 3
    import_all(project)
    map_path = tmp_path / "map.json"
    project.run("migrate", "--auto-approve", "--keep-legacy", "--map-out", str(map_path))
    assert len(valid("migration-map", json.loads(map_path.read_text()))["ids"]) == 2
    listing = valid("list", json.loads(project.run("list", "--json").out))
    assert {c["owner"]["via"] for c in listing["clones"]} == {"tags", "lockfile", "retired"}
    checked = valid("check", json.loads(project.run("check", "--json", "--probe").out))
    assert checked["ok"] and checked["probe"] and checked["summary"]["checked"] == 3
    refreshed = valid("refresh", json.loads(project.run("refresh", "--format", "json").out))
    assert refreshed["missing"] == []
    gone = project.ids()["voice-0"]
    with project.server.client() as http:
        http.request("DELETE", "/waves/v1/lightning-large", json={"voiceId": gone})
    refreshed = valid("refresh", json.loads(project.run("refresh", "--format", "json").out))
    assert refreshed["missing"] == [{"name": "voice-0", "voiceId": gone}]
    failed = valid("check", json.loads(project.run("check", "--json", expect=1).out))
    assert failed["summary"]["failed"] == 1


@pytest.mark.e2e
def test_the_plan_family_is_format_2_and_the_other_documents_format_1(project, tmp_path):
    """errors/warnings became objects in plan, apply, plan --all-envs and saved plans
    (format 2; they were strings in 1); documents that never changed stay at 1."""
    project.write({"alpha": {}})
    saved = tmp_path / "plan.json"
    plan = valid("plan", json.loads(project.run("plan", "--format", "json").out))
    project.run("plan", "--out", str(saved))
    shown = json.loads(show(project.capsys, str(saved), "--format", "json")[0])
    saved_doc = valid("saved-plan", json.loads(saved.read_text()))
    applied = valid(
        "apply", json.loads(project.run("apply", "--auto-approve", "--format", "json").out)
    )
    failed = valid(
        "plan",
        json.loads(
            project.run("plan", "--format", "json", "-f", str(tmp_path / "none.yaml"), expect=1).out
        ),
    )
    assert [
        d["formatVersion"]
        for d in (plan, shown, saved_doc, saved_doc["plan"], applied, applied["plan"], failed)
    ] == [2] * 7
    assert isinstance(failed["errors"][0], dict) and failed["errors"][0]["message"]
    validated = valid("validate", json.loads(project.run("validate", "--format", "json").out))
    listing = valid("list", json.loads(project.run("list", "--json").out))
    assert validated["formatVersion"] == listing["formatVersion"] == 1
