"""A key pasted into an environment's ``apiKeyEnv`` (instead of the NAME of the variable
that holds it) is refused without being echoed, by every command that would look the
variable up, not only by the full manifest load (validate, plan --env, apply --env).

The manifest's own check (``is_env_var_name``) decides what is a variable name; a value
that is not one is never printed, in text or JSON, on stdout or stderr, and nothing is
sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from sandbox_support import ROOT
from test_e2e_environments import EnvProject

from reconciler.engine import environments
from reconciler.manifest.models import NOT_AN_ENV_VAR

pytestmark = pytest.mark.e2e

PASTED = "sk-live-abcdef123"
FIELD_ERROR = "environments.prod.apiKeyEnv: not an environment variable name"
SCHEMAS = ROOT / "schemas"


@pytest.fixture
def project(tmp_path: Path, sandbox_server, capsys, monkeypatch: pytest.MonkeyPatch):
    for name in ("SMALLEST_API_KEY", "KEY_STAGING", "KEY_PROD", "VOICECTL_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    p = EnvProject(tmp_path, sandbox_server, capsys)
    p.setup()
    text = p.manifest.read_text()
    p.manifest.write_text(text.replace("apiKeyEnv: KEY_PROD", f'apiKeyEnv: "{PASTED}"'))
    assert PASTED in p.manifest.read_text()
    p.server.reset_stats()
    return p


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--all-envs"),
        ("plan", "--all-envs", "--format", "json"),
        ("plan", "--all-envs", "--format", "markdown"),
        ("list", "--env", "prod"),
        ("list", "--env", "prod", "--json"),
        ("doctor", "--env", "prod"),
        ("doctor", "--env", "prod", "--format", "json"),
        ("plan", "--env", "prod"),
        ("validate",),
    ],
    ids=" ".join,
)
def test_a_key_pasted_into_api_key_env_is_never_echoed(project: EnvProject, args) -> None:
    r = project.run(*args, expect=1)
    assert PASTED not in r.out + r.err
    assert FIELD_ERROR in r.out + r.err
    assert "internal error" not in r.err and "Traceback" not in r.err
    assert project.server.stats()["requests"] == {}  # nothing was sent


def test_list_and_doctor_name_the_field_in_their_json_failure(project: EnvProject) -> None:
    for args, schema in (
        (("list", "--env", "prod", "--json"), "list"),
        (("doctor", "--env", "prod", "--format", "json"), "doctor"),
    ):
        r = project.run(*args, expect=1)
        doc = json.loads(r.out)
        jsonschema.validate(doc, json.loads((SCHEMAS / f"{schema}.schema.json").read_text()))
        [error] = doc["errors"]
        assert error["message"].startswith(FIELD_ERROR)
        assert r.err.splitlines() == [f"Error: {error['message']}"]


def test_all_envs_names_the_field_and_the_unset_variable_apart(project: EnvProject) -> None:
    del project.keys["KEY_STAGING"]
    r = project.run("plan", "--all-envs", expect=1)
    assert PASTED not in r.out + r.err
    lines = r.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Error: {FIELD_ERROR}")
    assert lines[1].startswith("Error: KEY_STAGING (environment 'staging') is not set")


# ------------------------------------------------------------------------------ unit


def test_the_missing_key_message_never_shows_a_value_that_is_not_a_variable_name() -> None:
    targets = [
        environments.Target("prod", "K_PROD", None),
        environments.Target("stag", PASTED, None),
        environments.Target("dev", "K_DEV\n", None),  # a trailing newline is no name either
        environments.Target("qa", "", None),
    ]
    message = environments.missing_key_message(targets)
    assert PASTED not in message and "K_DEV" not in message
    assert message.splitlines() == [
        f"environments.stag.apiKeyEnv: {NOT_AN_ENV_VAR}",
        f"environments.dev.apiKeyEnv: {NOT_AN_ENV_VAR}",
        "K_PROD (environment 'prod'), (no apiKeyEnv) (environment 'qa') are not set: export "
        "the environment's Waves API key in the variable its apiKeyEnv names, or add "
        "--sandbox; nothing was sent",
    ]
