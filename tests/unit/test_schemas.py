"""schemas/*.json are generated from the pydantic models and must match them.

When a model changes, regenerate with ``voicectl schema --write`` and commit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml
from cli_support import run_main as run
from sandbox_support import ROOT

from reconciler import schemas

SCHEMA_DIR = ROOT / "schemas"


def load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / schemas.SCHEMAS[name][0]).read_text())


def test_committed_schemas_match_the_models():
    stale = schemas.differences(SCHEMA_DIR)
    assert stale == [], f"{stale} differ from the models: run `voicectl schema --write`"


@pytest.mark.parametrize("name", list(schemas.SCHEMAS))
def test_each_schema_is_a_valid_2020_12_schema(name):
    schema = load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == schemas.JSON_SCHEMA_DIALECT


def test_schema_command_prints_writes_and_checks(capsys, tmp_path):
    r = run(capsys, "schema", "plan")
    assert r.code == 0 and r.out == (SCHEMA_DIR / "plan.schema.json").read_text()
    target = tmp_path / "out"
    r = run(capsys, "schema", "--write", "--dir", str(target))
    assert r.code == 0 and "wrote voices.schema.json" in r.out
    for file_name, _ in schemas.SCHEMAS.values():
        assert (target / file_name).read_bytes() == (SCHEMA_DIR / file_name).read_bytes()
    r = run(capsys, "schema", "--write", "--dir", str(target))
    assert f"{len(schemas.SCHEMAS)} schemas are up to date" in r.out
    assert run(capsys, "schema", "--check", "--dir", str(target)).code == 0
    (target / "plan.schema.json").write_text("{}\n")
    r = run(capsys, "schema", "--check", "--dir", str(target))
    assert r.code == 1
    assert r.err.strip() == (
        f"Error: {target}: plan.schema.json differ from the models; "
        f"run `voicectl schema --write --dir {target}`"
    )
    (target / "plan.schema.json").unlink()
    (target / "list.schema.json").write_text("{}\n")
    r = run(capsys, "schema", "--check", "--dir", str(target))
    assert r.err.strip() == (  # a missing file is not called different
        f"Error: {target}: plan.schema.json missing; list.schema.json differ from the "
        f"models; run `voicectl schema --write --dir {target}`"
    )
    missing = tmp_path / "nowhere"
    r = run(capsys, "schema", "--check", "--dir", str(missing))
    assert r.code == 1 and r.err.strip() == (
        f"Error: {missing}: no such folder, so there are no schemas to check; "
        f"run `voicectl schema --write --dir {missing}` (or give --dir)"
    )


def test_schema_command_needs_exactly_one_mode(capsys):
    for args in ([], ["plan", "--write"], ["--write", "--check"]):
        r = run(capsys, "schema", *args)
        assert r.code == 1 and "give one of NAME" in r.err
    both = run(capsys, "schema", "--write", "--check")
    assert both.err.rstrip().endswith("--write or --check (not --write and --check together)")
    r = run(capsys, "schema", "nope")
    assert r.code == 1 and "Invalid value" in r.err


def test_example_manifest_has_the_schema_line_and_validates():
    text = (ROOT / "voices.yaml.example").read_text()
    first = text.splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schemas/voices.schema.json"
    assert (ROOT / first.split("$schema=")[1]).resolve() == SCHEMA_DIR / "voices.schema.json"
    jsonschema.validate(yaml.safe_load(text), load("voices"))


@pytest.mark.parametrize(
    "doc",
    [
        {"version": 2},
        {"version": 1, "colour": "red"},
        {"version": 1, "voices": {"Bad Name": {"file": "a.wav"}}},
        {"version": 1, "voices": {"a": {"file": "a.wav", "tags": ["x,y"]}}},
        {"version": 1, "voices": {"a": {"file": "a.wav", "tags": ["voicectl-stack:x"]}}},
        {"version": 1, "voices": {"a": {}}},
        {"version": 1, "prune": "some"},
    ],
)
def test_manifest_schema_refuses_what_voicectl_refuses(doc):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load("voices"))


def test_manifest_schema_allows_extension_keys():
    jsonschema.validate({"version": 1, "x-anchors": {"a": 1}}, load("voices"))


def test_lockfile_schema_accepts_a_real_lockfile(tmp_path):
    """Apply the example against the embedded sandbox; its lockfile fits the schema."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(ROOT / "voices.yaml.example", tmp_path / "voices.yaml")
    shutil.copy(ROOT / "schemas" / "voices.schema.json", tmp_path / "voices.schema.json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            "--sandbox",
            "--auto-approve",
            "-f",
            str(tmp_path / "voices.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lock = json.loads((tmp_path / "voices.lock.json").read_text())
    assert len(lock["voices"]) == 3
    jsonschema.validate(lock, load("voices.lock"))


def test_the_renderers_format_version_is_the_schemas_one():
    """render keeps the plan family's version as a literal (so a text plan need not build
    the JSON models to read it); it must be the one the schemas say."""
    from reconciler import render, schemas

    assert render.FORMAT_VERSION == schemas.PLAN_FORMAT_VERSION
