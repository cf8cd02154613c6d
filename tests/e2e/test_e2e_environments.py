"""Teams, end to end over real sockets: environments (two organisations, two keys),
promotion, plan --all-envs, split manifests and saved plans that see includes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_support import Project

from reconciler.ownership import owner_of

pytestmark = pytest.mark.e2e

STAGING_KEY = "sk-sandbox-tests-staging-org"
PROD_KEY = "sk-sandbox-tests-prod-org"

MANIFEST = """
version: 1
stack: team
defaults: {language: en}
environments:
  staging: {apiKeyEnv: KEY_STAGING}
  prod: {apiKeyEnv: KEY_PROD%s}
voices:
  narrator: {file: samples/narrator.wav, displayName: Narrator}
  beta: {file: samples/beta.wav, environments: [staging]}
"""


class EnvProject(Project):
    """A project whose manifest declares staging and prod, each with its own key."""

    def __init__(self, *args: Any, keys: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.keys = {"KEY_STAGING": STAGING_KEY, "KEY_PROD": PROD_KEY} if keys is None else keys

    def env(self) -> dict[str, str]:
        return {**self.keys, "VOICECTL_API_URL": self.server.url}

    def setup(self, prod_url: str = "") -> None:
        self.sample("narrator")
        self.sample("beta")
        extra = f", apiUrl: {json.dumps(prod_url)}" if prod_url else ""
        self.manifest.write_text(textwrap.dedent(MANIFEST % extra).lstrip())

    def lock_of(self, env: str) -> dict[str, Any]:
        return json.loads((self.root / f"voices.{env}.lock.json").read_text())

    def owners(self, key: str) -> dict[str, tuple[str, str | None]]:
        """name -> (stack, spec digest) of each clone in the organisation of ``key``."""
        found = {}
        for clone in self.server.clones(key):
            owner = owner_of(clone.get("tags"))
            assert owner is not None
            found[f"{owner.stack}/{owner.name}"] = (clone["voiceId"], owner.spec)
        return found


@pytest.fixture
def project(tmp_path: Path, sandbox_server, capsys, monkeypatch: pytest.MonkeyPatch):
    for name in ("SMALLEST_API_KEY", "KEY_STAGING", "KEY_PROD", "VOICECTL_ENV"):
        monkeypatch.delenv(name, raising=False)
    p = EnvProject(tmp_path, sandbox_server, capsys)
    p.setup()
    return p


def test_two_environments_two_organisations_and_promotion(project: EnvProject) -> None:
    r = project.run("plan", expect=1)
    assert (
        "Error: voices.yaml declares environments (staging, prod): choose one with --env "
        "NAME or VOICECTL_ENV" in r.err.replace(str(project.root) + "/", "")
    )

    project.run("apply", "--env", "staging", "--auto-approve")
    staging = project.owners(STAGING_KEY)
    assert sorted(staging) == ["team@staging/beta", "team@staging/narrator"]
    assert project.server.clones(PROD_KEY) == []  # another organisation, untouched
    assert not project.lockfile.exists()  # only the environment's own lockfile
    assert project.lock_of("staging")["stack"] == "team@staging"

    ids = json.loads(project.run("output", "--env", "staging").out)
    assert ids == {name.split("/")[1]: vid for name, (vid, _) in staging.items()}

    # Promotion: prod lacks exactly what staging has and prod may have.
    r = project.run("plan", "--env", "prod", "--detailed-exitcode", expect=2)
    assert "+ narrator" in r.out and "beta" not in r.out
    assert "Plan: 1 to create, 0 to replace, 0 to delete." in r.out
    project.run("apply", "--auto-approve", "--env", "prod")
    prod = project.owners(PROD_KEY)
    assert sorted(prod) == ["team@prod/narrator"]
    # the same sample and spec make the same spec digest, a new clone of its own
    assert prod["team@prod/narrator"][1] == staging["team@staging/narrator"][1]
    assert prod["team@prod/narrator"][0] != staging["team@staging/narrator"][0]
    assert json.loads(project.run("output", "--env", "prod").out) == {
        "narrator": prod["team@prod/narrator"][0]
    }
    r = project.run("output", "narrator", "--env", "prod")
    assert r.out.strip() == prod["team@prod/narrator"][0]

    r = project.run("plan", "--all-envs", "--detailed-exitcode")
    table = r.out.split("\n\n")[0].splitlines()
    assert table[1].split() == ["environment", "create", "replace", "delete"]
    assert table[2].split() == ["staging", "0", "0", "0", "no", "changes"]
    assert table[3].split() == ["prod", "0", "0", "0", "no", "changes"]
    assert "== Environment staging (voices.staging.lock.json) ==" in r.out
    assert r.out.count("No changes. The voice clones match the manifest.") == 2


def test_env_from_the_variable_and_unknown_env(project: EnvProject, monkeypatch) -> None:
    monkeypatch.setenv("VOICECTL_ENV", "staging")
    r = project.run("plan", "--detailed-exitcode", expect=2)
    assert "Plan: 2 to create" in r.out
    r = project.run("plan", "--env", "qa", expect=1)
    assert "environment 'qa' (--env / VOICECTL_ENV) is not declared in" in r.err
    assert "it declares: staging, prod" in r.err


def test_all_envs_lists_every_environment_and_exits_2_on_changes(project: EnvProject) -> None:
    project.run("apply", "--env", "staging", "--auto-approve")
    project.server.reset_stats()
    r = project.run("plan", "--all-envs", "--detailed-exitcode", expect=2)
    rows = [line.split() for line in r.out.split("\n\n")[0].splitlines()[2:]]
    assert rows == [["staging", "0", "0", "0", "no", "changes"], ["prod", "1", "0", "0", "changes"]]
    stats = project.server.stats()
    assert stats["requests"].get("GET /waves/v1/voice-cloning") == 2  # one list per env
    assert len(stats["max_in_flight"]) == 2  # two organisations were asked

    doc = json.loads(project.run("plan", "--all-envs", "--format", "json").out)
    assert [e["environment"] for e in doc["environments"]] == ["staging", "prod"]
    assert doc["hasChanges"] is True and doc["failed"] == []
    assert doc["environments"][1]["plan"]["summary"]["create"] == 1

    md = project.run("plan", "--all-envs", "--format", "markdown").out
    assert "| prod | 1 | 0 | 0 | changes |" in md
    r = project.run("plan", "--all-envs", "--env", "prod", expect=1)
    assert "--all-envs cannot be used with --env" in r.err


def test_all_envs_with_one_environment_unreachable(project: EnvProject, start_sandbox) -> None:
    dead = start_sandbox()
    dead_url = dead.url
    dead.stop()  # nothing listens there any more
    project.setup(prod_url=dead_url)
    r = project.run("plan", "--all-envs", "--detailed-exitcode", expect=1)
    rows = [line.split()[:4] for line in r.out.split("\n\n")[0].splitlines()[2:]]
    assert rows == [["staging", "2", "0", "0"], ["prod", "-", "-", "-"]]
    assert "Plan: 2 to create, 0 to replace, 0 to delete." in r.out  # staging still planned
    assert "Error: environment prod: could not be planned:" in r.err
    assert "staging" not in r.err


def test_missing_key_variable_names_it_and_sends_nothing(
    project: EnvProject, tmp_path: Path
) -> None:
    del project.keys["KEY_PROD"]
    project.server.reset_stats()
    r = project.run("plan", "--env", "prod", expect=1)
    assert "Error: KEY_PROD (environment 'prod') is not set" in r.err
    assert "nothing was sent" in r.err
    r = project.run("plan", "--all-envs", expect=1)
    assert "Error: KEY_PROD (environment 'prod') is not set" in r.err
    r = project.run("apply", "--env", "prod", "--auto-approve", expect=1)
    assert "KEY_PROD" in r.err
    assert project.server.stats()["requests"] == {}
    assert not (tmp_path / "voices.prod.lock.json").exists()


def test_environments_sharing_an_organisation_stay_apart(project: EnvProject) -> None:
    project.keys["KEY_PROD"] = STAGING_KEY  # by mistake: both keys of one organisation
    project.run("apply", "--env", "staging", "--auto-approve")
    project.run("apply", "--env", "prod", "--auto-approve")
    owners = project.owners(STAGING_KEY)
    assert sorted(owners) == ["team@prod/narrator", "team@staging/beta", "team@staging/narrator"]
    # neither environment's plan touches the other's clones
    project.run("plan", "--env", "staging", "--detailed-exitcode")
    project.run("plan", "--env", "prod", "--detailed-exitcode")


def test_a_lockfile_of_another_environment_is_refused(project: EnvProject) -> None:
    project.run("apply", "--env", "staging", "--auto-approve")
    r = project.run(
        "plan",
        "--env",
        "prod",
        "--lockfile",
        str(project.root / "voices.staging.lock.json"),
        expect=1,
    )
    assert "the lockfile of environment 'staging', but this run is for environment 'prod'" in r.err
    # every command that reads a lockfile for an environment: staging's ids are not prod's
    staging = project.root / "voices.staging.lock.json"
    before = staging.read_bytes()
    for command in (["output"], ["check"], ["list"], ["refresh"], ["import"]):
        r = project.run(*command, "--env", "prod", "--lockfile", str(staging), expect=1)
        assert r.err == (
            f"Error: {staging}: the lockfile of environment 'staging', but this run is for "
            "environment 'prod'; nothing was changed (leave out --lockfile: each environment "
            "has its own)\n"
        ), (command, r.err)
    assert staging.read_bytes() == before


def test_sandbox_gives_each_environment_its_own_organisation(project: EnvProject) -> None:
    project.keys.clear()  # the sandbox needs no key
    project.run("--sandbox", "apply", "--env", "staging", "--auto-approve")
    r = project.run("--sandbox", "plan", "--env", "prod", "--detailed-exitcode", expect=2)
    assert "+ narrator" in r.out and "Plan: 1 to create" in r.out  # not adopted from staging
    r = project.run("--sandbox", "plan", "--all-envs", "--detailed-exitcode", expect=2)
    rows = [line.split()[:4] for line in r.out.split("\n\n")[0].splitlines()[2:]]
    assert rows == [["staging", "0", "0", "0"], ["prod", "1", "0", "0"]]


# ---------------------------------------------------------------- split manifests


def _split(project: EnvProject) -> Path:
    squad = project.root / "voices.d"
    squad.mkdir()
    project.manifest.write_text(
        "version: 1\nstack: team\ndefaults: {language: en}\ninclude: ['voices.d/*.yaml']\n"
        "voices:\n  narrator: {file: samples/narrator.wav}\n"
    )
    (squad / "support.yaml").write_text(
        "voices:\n  beta:\n    file: ../samples/beta.wav\n    description: Support squad\n"
    )
    return squad


def test_split_manifest_applies_and_validate_lists_files(project: EnvProject) -> None:
    project.keys = {"SMALLEST_API_KEY": STAGING_KEY}
    project.key = STAGING_KEY
    squad = _split(project)
    r = project.run("validate")
    assert "Read 2 files: " in r.out and r.out.rstrip().endswith("voices.d/support.yaml.")
    project.run("apply", "--auto-approve")
    assert sorted(project.owned("team")) == ["beta", "narrator"]
    (squad / "support.yaml").write_text("voices:\n  beta: {file: ../samples/beta.wav, tagz: [x]}\n")
    r = project.run("plan", expect=1)
    err = r.err.replace(str(project.root) + "/", "")
    assert "Error: voices.d/support.yaml:2:37: voices.beta.tagz: unknown field 'tagz'" in err
    (squad / "other.yaml").write_text("voices:\n  narrator: {file: ../samples/beta.wav}\n")
    (squad / "support.yaml").write_text("voices:\n  beta: {file: ../samples/beta.wav}\n")
    r = project.run("validate", expect=1)
    assert (
        "voices.d/other.yaml:2:3: voices.narrator: voice 'narrator' is declared twice: here "
        "and in voices.yaml:6:3"
    ) in r.err.replace(str(project.root) + "/", "")


def test_a_changed_include_makes_a_saved_plan_stale(project: EnvProject) -> None:
    project.keys = {"SMALLEST_API_KEY": STAGING_KEY}
    project.key = STAGING_KEY
    squad = _split(project)
    plan_file = project.root / "plan.json"
    project.run("plan", "--out", str(plan_file))
    saved = json.loads(plan_file.read_text())
    assert [i["path"] for i in saved["inputs"]["includes"]] == ["voices.d/support.yaml"]
    assert saved["inputs"]["samples"]["beta"]["file"] == "samples/beta.wav"
    (squad / "support.yaml").write_text(
        "voices:\n  beta:\n    file: ../samples/beta.wav\n    description: Changed\n"
    )
    project.server.reset_stats()
    r = project.run("apply", str(plan_file), expect=1)
    assert "is stale: the included file voices.d/support.yaml changed" in r.err
    assert project.server.stats()["requests"] == {}  # refused before any request

    (squad / "support.yaml").write_text(
        "voices:\n  beta:\n    file: ../samples/beta.wav\n    description: Support squad\n"
    )
    (squad / "new.yaml").write_text("voices: {}\n")
    r = project.run("apply", str(plan_file), expect=1)
    assert "is stale: voices.d/new.yaml is now included" in r.err
    (squad / "new.yaml").unlink()
    project.run("apply", str(plan_file))
    assert sorted(project.owned("team")) == ["beta", "narrator"]


def test_a_saved_plan_keeps_its_environment(project: EnvProject) -> None:
    plan_file = project.root / "prod.plan.json"
    project.run("plan", "--env", "prod", "--out", str(plan_file))
    assert json.loads(plan_file.read_text())["inputs"]["environment"] == "prod"
    r = project.run("apply", str(plan_file), "--env", "staging", expect=1)
    assert "was planned for environment 'prod', not 'staging'" in r.err
    assert project.server.clones(STAGING_KEY) == [] == project.server.clones(PROD_KEY)
    project.run("apply", str(plan_file))  # no --env: the plan's own
    assert sorted(project.owners(PROD_KEY)) == ["team@prod/narrator"]
    assert project.server.clones(STAGING_KEY) == []


def test_list_check_and_refresh_work_on_the_chosen_environment(project: EnvProject) -> None:
    project.run("apply", "--env", "staging", "--auto-approve")
    listed = json.loads(project.run("list", "--env", "staging", "--json").out)
    assert sorted(c["displayName"] for c in listed["clones"]) == ["Narrator", "beta"]
    assert json.loads(project.run("list", "--env", "prod", "--json").out)["clones"] == []
    project.run("check", "--env", "staging")
    r = project.run("check", "--env", "prod", expect=1)
    assert "voices.prod.lock.json" in r.err  # prod has no lockfile yet
    project.run("refresh", "--env", "staging")
    project.run("list", expect=1)  # which organisation? environments are declared


def test_all_envs_lists_the_environments_concurrently(project: EnvProject) -> None:
    """The sandbox's list barrier answers only when two lists are in flight together:
    --all-envs passes it, one environment's plan alone cannot."""
    project.server.config(list_barrier=2, list_barrier_timeout=60)
    r = project.run("plan", "--all-envs", "--detailed-exitcode", expect=2)
    rows = [line.split()[:4] for line in r.out.split("\n\n")[0].splitlines()[2:]]
    assert rows == [["staging", "2", "0", "0"], ["prod", "1", "0", "0"]]
    project.server.config(list_barrier=2, list_barrier_timeout=0.2)
    r = project.run("plan", "--env", "staging", expect=1)
    assert "list barrier: 2 lists were never in flight together" in r.err


def test_each_environment_lockfile_records_its_organisation(project: EnvProject) -> None:
    project.run("apply", "--env", "staging", "--auto-approve")
    project.run("apply", "--env", "prod", "--auto-approve")
    staging_org = project.lock_of("staging").get("organizationId")
    prod_org = project.lock_of("prod").get("organizationId")
    assert staging_org and prod_org and staging_org != prod_org
    project.keys["KEY_STAGING"] = PROD_KEY  # staging's variable now holds prod's key
    project.server.reset_stats()
    r = project.run("apply", "--env", "staging", "--auto-approve", expect=1)
    assert "is KEY_STAGING (environment 'staging') the key of another organisation?" in r.err
    assert project.server.stats()["clones_created"] == 0
    assert sorted(project.owners(PROD_KEY)) == ["team@prod/narrator"]


def test_all_envs_says_why_an_environment_was_refused(project: EnvProject) -> None:
    project.run("apply", "--env", "staging", "--auto-approve")
    project.run("apply", "--env", "prod", "--auto-approve")
    project.keys["KEY_STAGING"] = PROD_KEY
    r = project.run("plan", "--all-envs", expect=1)
    [line] = r.err.splitlines()
    assert line.startswith(
        "Error: environment staging: the plan was refused: the lockfile records organisation "
    )
    assert "is KEY_STAGING (environment 'staging') the key of another organisation?" in line
    doc = json.loads(project.run("plan", "--all-envs", "--format", "json", expect=1).out)
    [error] = doc["errors"]
    assert error["message"] == line.removeprefix("Error: ")
    md = project.run("plan", "--all-envs", "--format", "markdown", expect=1).out
    assert "match the manifest" not in md.split("### voicectl plan: refused")[1].split("###")[0]


def test_env_is_not_blamed_for_a_missing_or_malformed_manifest(project: EnvProject) -> None:
    missing = project.root / "missing.yaml"
    for command in ("plan", "list", "doctor"):
        r = project.run(command, "--env", "staging", "-f", str(missing), expect=1)
        assert r.err.splitlines()[0] == f"Error: {missing}: the manifest does not exist"
    project.manifest.write_text("version: 1\nstack: t\nenvironments: [staging, prod]\nvoices: {}\n")
    r = project.run("plan", "--env", "staging", expect=1)
    assert "voices.yaml:3:15: environments: expected a mapping" in r.err.splitlines()[0]
    # a mistyped field: list and doctor, which read only the environments, refuse it too
    project.manifest.write_text(
        "version: 1\nstack: t\nenvironments:\n  prod: {apiKeyEnv: KEY_PROD, apiURL: 'x'}\n"
        "voices: {}\n"
    )
    for command in ("list", "doctor"):
        r = project.run(command, "--env", "prod", expect=1)
        assert (
            "environments.prod.apiURL: unknown field 'apiURL' (did you mean 'apiUrl'?)"
            in (r.err.splitlines()[0])
        )


def test_lockfiles_no_declared_environment_owns_are_named_on_an_environments_first_run(
    project: EnvProject,
) -> None:
    """Adding environments: to a project (or renaming one) starts new stacks: the old
    lockfile's clones are not reused, and the first plan says so instead of only
    'declared, no clone exists'."""
    text = project.manifest.read_text()
    project.manifest.write_text(
        "version: 1\nstack: team\ndefaults: {language: en}\n"
        "voices:\n  narrator: {file: samples/narrator.wav, displayName: Narrator}\n"
    )
    project.keys["SMALLEST_API_KEY"] = STAGING_KEY
    project.run("apply", "--auto-approve")  # voices.lock.json, stack 'team'
    project.manifest.write_text(text)
    r = project.run("plan", "--env", "staging")
    assert (
        "Warning: voices.lock.json beside the manifest belongs to no environment it declares "
        "(made before environments:, or by an environment since renamed): its clones are "
        "another stack's, so environment 'staging' (voices.staging.lock.json, stack "
        "'team@staging') makes its own instead of reusing them"
    ) in r.err
    project.run("apply", "--env", "staging", "--auto-approve")
    assert "belongs to no environment" not in project.run("plan", "--env", "staging").err
    # a renamed environment's lockfile: prod's first plan names it too
    (project.root / "voices.qa.lock.json").write_bytes(
        (project.root / "voices.staging.lock.json").read_bytes()
    )
    r = project.run("plan", "--env", "prod")
    assert "voices.qa.lock.json beside the manifest belongs to no environment" in r.err
    assert "voices.staging.lock.json beside" not in r.err


def test_target_of_a_voice_of_another_environment_says_where_it_is(project: EnvProject) -> None:
    for flag in ("--target", "--replace"):
        r = project.run("plan", "--env", "prod", flag, "beta", expect=1)
        assert r.err == f"Error: {flag} beta: declared only for environment staging, not 'prod'\n"


def test_plan_out_never_writes_over_another_environments_files(project: EnvProject) -> None:
    """Not yet made (prod never applied), prod's lockfile and journal are still prod's."""
    for other in ("voices.prod.lock.json", ".voicectl/voices.prod.lock.json.journal"):
        target = project.root / other
        r = project.run("plan", "--env", "staging", "--out", str(target), expect=1)
        assert "that is environment 'prod'" in r.err and not target.exists()
