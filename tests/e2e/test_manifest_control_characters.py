"""A raw control character in voices.yaml (a pasted colour code, a NUL) is the same
one-line ``file:line:col`` problem for every command that reads the manifest, through
the real CLI against the sandbox: never an internal error, nothing sent.

The YAML reader refuses such characters before parsing; the light read of the
manifest's environments (reconciler.engine.environments) used to meet that refusal
before the full load could name the field.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

# (the character, how the problem names it): what a paste or an editor can leave
CHARACTERS = [
    ("\x1b", "ESC (U+001B)"),
    ("\x00", "NUL (U+0000)"),
    ("\x01", "SOH (U+0001)"),
    ("\x7f", "DEL (U+007F)"),
    ("\x9b", "U+009B"),
    ("\ufffe", "U+FFFE"),
]


def _manifest(project, char: str, environments: str = "") -> str:
    """Write voices.yaml with ``char`` inside voice a's displayName (line 4 or 6, col 59)."""
    project.sample("a")
    text = (
        f"version: 1\nstack: e2e\n{environments}voices:\n"
        f'  a: {{file: samples/a.wav, language: en, displayName: "Nar{char}rator"}}\n'
    )
    project.manifest.write_bytes(text.encode())
    return f"{project.manifest}:{text.count(chr(10))}:59: voices.a.displayName: control character"


def _assert_refused(project, result, where: str, name: str) -> None:
    assert "internal error" not in result.err
    assert result.err.splitlines() == [
        f"Error: {where} {name}: remove it (pasted terminal output?)",
        f"Error: 1 problem in {project.manifest}",
    ]


@pytest.mark.parametrize(("char", "name"), CHARACTERS, ids=[n for _c, n in CHARACTERS])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_plan_and_apply_name_the_character_and_send_nothing(project, command, char, name):
    where = _manifest(project, char)
    args = [command] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    assert r.out == ""
    _assert_refused(project, r, where, name)
    assert project.remote() == [] and not project.lockfile.exists()


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_json_output_is_the_commands_failure_document(project, command):
    _manifest(project, "\x1b")
    args = [command, "--format", "json"] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    doc = json.loads(r.out)  # one document
    assert doc["actions" if command == "plan" else "outcomes"] == []
    assert doc["errors"] == [
        {
            "file": str(project.manifest),
            "line": 4,
            "column": 59,
            "path": "voices.a.displayName",
            "message": "control character ESC (U+001B): remove it (pasted terminal output?)",
        }
    ]
    assert project.remote() == []


def test_the_environments_are_still_found(project):
    """--env names an environment of a manifest holding a control character: the
    problem is the character, not 'declares no environments'."""
    where = _manifest(project, "\x1b", "environments:\n  dev: {apiKeyEnv: SMALLEST_API_KEY}\n")
    r = project.run("plan", "--env", "dev", expect=1)
    _assert_refused(project, r, where, "ESC (U+001B)")
    r = project.run("plan", "--all-envs", expect=1)
    _assert_refused(project, r, where, "ESC (U+001B)")
