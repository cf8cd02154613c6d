"""The manifest for teams: environments and included files (offline, no server)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.manifest import ManifestDocument, load_manifest
from reconciler.manifest.environments import UnknownEnvironment
from reconciler.manifest.models import IncludedDocument
from reconciler.plan import desired_digest

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path, **kwargs)
    return info.value.problems


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "samples").mkdir()
    shutil.copy(AUDIO / "tone-6s.wav", tmp_path / "samples" / "a.wav")
    shutil.copy(AUDIO / "tone-7s-id3.mp3", tmp_path / "samples" / "b.mp3")
    monkeypatch.chdir(tmp_path)
    return tmp_path


TWO_ENVS = """
version: 1
stack: team
defaults: {language: en, tags: [brand]}
environments:
  staging: {apiKeyEnv: SMALLEST_API_KEY_STAGING, apiUrl: "http://127.0.0.1:9"}
  prod:
    apiKeyEnv: SMALLEST_API_KEY_PROD
    defaults: {accent: formal, tags: [live]}
voices:
  everywhere: {file: samples/a.wav}
  trial: {file: samples/b.mp3, environments: [staging]}
"""


# ---------------------------------------------------------------- environments


def test_environments_are_declared_and_chosen(folder: Path) -> None:
    path = write(folder, "voices.yaml", TWO_ENVS)
    base = load_manifest(path).manifest
    assert list(base.environments) == ["staging", "prod"]
    staging_env = base.environments["staging"]
    assert (staging_env.api_key_env, staging_env.api_url) == (
        "SMALLEST_API_KEY_STAGING",
        "http://127.0.0.1:9",
    )
    assert base.environments["prod"].api_url is None
    assert base.environment is None and base.stack == "team"
    assert list(base.voices) == ["everywhere", "trial"]  # validation sees every voice

    staging = load_manifest(path, environment="staging").manifest
    prod = load_manifest(path, environment="prod").manifest
    assert (staging.stack, prod.stack) == ("team@staging", "team@prod")
    assert staging.base_stack == prod.base_stack == "team"
    assert list(staging.voices) == ["everywhere", "trial"]
    assert list(prod.voices) == ["everywhere"]  # a voice limited to staging
    assert staging.voices["trial"].environments == ("staging",)
    # prod's defaults lie over the manifest's: accent set, tags added after
    assert staging.voices["everywhere"].accent is None
    assert prod.voices["everywhere"].accent == "formal"
    assert staging.voices["everywhere"].tags == ("brand",)
    assert prod.voices["everywhere"].tags == ("brand", "live")


def test_same_sample_and_spec_make_the_same_digest_in_every_environment(folder: Path) -> None:
    """Promotion by construction: the spec digest does not depend on the environment."""
    path = write(
        folder,
        "voices.yaml",
        """
        version: 1
        stack: team
        environments:
          staging: {apiKeyEnv: KEY_STAGING}
          prod: {apiKeyEnv: KEY_PROD}
        voices:
          narrator: {file: samples/a.wav, language: en, tags: [x]}
        """,
    )
    staging = load_manifest(path, environment="staging").manifest.voices["narrator"]
    prod = load_manifest(path, environment="prod").manifest.voices["narrator"]
    assert desired_digest(staging) == desired_digest(prod)


def test_an_unknown_or_unneeded_environment_is_a_clear_error(folder: Path) -> None:
    path = write(folder, "voices.yaml", TWO_ENVS)
    with pytest.raises(UnknownEnvironment) as info:
        load_manifest(path, environment="qa")
    assert info.value.message == (
        "environment 'qa' (--env / VOICECTL_ENV) is not declared in voices.yaml; "
        "it declares: staging, prod"
    )
    plain = write(folder, "plain.yaml", "version: 1\nvoices: {}\n")
    with pytest.raises(UnknownEnvironment) as info:
        load_manifest(plain, environment="qa")
    assert "plain.yaml declares no environments" in info.value.message


def test_environment_problems_are_positioned(folder: Path) -> None:
    path = write(
        folder,
        "voices.yaml",
        """
        version: 1
        environments:
          staging: {apiKeyEnv: sk_live_this_is_a_pasted_key}
          Prod: {apiKeyEnv: KEY_PROD}
          qa: {apiUrl: ftp://x, apikeyenv: KEY}
        voices:
          a: {file: samples/a.wav, language: en, environments: [staging, nowhere]}
          b: {file: samples/a.wav, language: en, environments: []}
        """,
    )
    problems = problems_of(path)
    assert problems[0].startswith(
        "voices.yaml:3:24: environments.staging.apiKeyEnv: not an environment variable name"
    )
    assert "sk_live" not in "\n".join(problems)  # a pasted key is never echoed
    assert problems[1].startswith("voices.yaml:4:3: environments.Prod: 'Prod' is not a valid name")
    assert problems[2:5] == [
        "voices.yaml:5:3: environments.qa: missing required field 'apiKeyEnv'",
        "voices.yaml:5:16: environments.qa.apiUrl: 'ftp://x' is not an http:// or https:// URL",
        "voices.yaml:5:25: environments.qa.apikeyenv: unknown field 'apikeyenv' "
        "(did you mean 'apiKeyEnv'?)",
    ]
    assert problems[5:] == [
        "voices.yaml:7:66: voices.a.environments[1]: environment 'nowhere' is not declared; "
        "the manifest declares: staging, Prod, qa",
        "voices.yaml:8:56: voices.b.environments: may not be empty (leave the field out instead)",
    ]


def test_an_api_url_the_client_would_refuse_is_a_manifest_problem(folder: Path) -> None:
    """Credentials, a query or the /waves/v1 suffix: validate says so at the apiUrl,
    instead of plan failing later without a position (and naming SMALLEST_API_KEY)."""
    path = write(
        folder,
        "voices.yaml",
        """
        version: 1
        environments:
          a: {apiKeyEnv: KEY_A, apiUrl: "https://user:secret@h.example"}
          b: {apiKeyEnv: KEY_B, apiUrl: "https://h.example/?token=t"}
          c: {apiKeyEnv: KEY_C, apiUrl: "https://h.example/waves/v1"}
          d: {apiKeyEnv: KEY_D, apiUrl: "https://h.example/base"}
        voices: {}
        """,
    )
    problems = problems_of(path)
    assert problems == [
        "voices.yaml:3:33: environments.a.apiUrl: 'https://h.example' carries credentials "
        "(user:password@): remove them; the key comes from the environment's apiKeyEnv",
        "voices.yaml:4:33: environments.b.apiUrl: 'https://h.example/': give the base URL "
        "without a query or fragment (voicectl adds the API paths)",
        "voices.yaml:5:33: environments.c.apiUrl: 'https://h.example/waves/v1': give the base "
        "URL without /waves/v1 (voicectl adds the API paths): 'https://h.example'",
    ]
    assert "secret" not in "\n".join(problems) and "token" not in "\n".join(problems)


def test_a_voice_environment_without_declared_environments(folder: Path) -> None:
    path = write(
        folder,
        "voices.yaml",
        "version: 1\nvoices:\n  a: {file: samples/a.wav, language: en, environments: [prod]}\n",
    )
    assert problems_of(path) == [
        "voices.yaml:3:57: voices.a.environments[0]: environment 'prod': voices.yaml declares "
        "no environments (add an 'environments:' field, or remove this one)"
    ]


# ---------------------------------------------------------------- includes


def test_includes_merge_voices_with_paths_relative_to_their_file(folder: Path) -> None:
    write(
        folder,
        "voices.yaml",
        """
        version: 1
        stack: team
        defaults: {language: en}
        include: ["voices.d/*.yaml"]
        voices:
          main: {file: samples/a.wav}
    """,
    )
    write(
        folder,
        "voices.d/b-squad.yaml",
        """
        voices:
          bravo: {file: ../samples/b.mp3, displayName: Bravo}
    """,
    )
    write(
        folder,
        "voices.d/a-squad.yaml",
        """
        x-common: &common {language: hi}
        voices:
          alpha: {<<: *common, file: ../samples/a.wav}
    """,
    )
    m = load_manifest(folder / "voices.yaml").manifest
    assert list(m.voices) == ["main", "alpha", "bravo"]  # the manifest's, then sorted files
    assert m.voices["alpha"].language == "hi" and m.voices["bravo"].language == "en"
    assert m.voices["bravo"].file == folder / "samples" / "b.mp3"
    assert m.voices["bravo"].file_rel == "samples/b.mp3"  # relative to the manifest's folder
    assert m.voices["alpha"].source == "voices.d/a-squad.yaml"
    assert [f.rel for f in m.sources] == [
        "voices.yaml",
        "voices.d/a-squad.yaml",
        "voices.d/b-squad.yaml",
    ]
    assert all(len(f.sha256) == 64 for f in m.sources)


def test_errors_point_into_the_included_file(folder: Path) -> None:
    write(
        folder,
        "voices.yaml",
        """
        version: 1
        include: [voices.d/*.yaml]
        voices:
          main: {file: samples/a.wav, language: en}
    """,
    )
    write(
        folder,
        "voices.d/squad.yaml",
        """
        voices:
          ok: {file: ../samples/a.wav, language: en}
          bad:
            file: ../samples/missing.wav
            language: en
            dispalyName: Oops
          out: {file: ../../elsewhere.wav, language: en}
        stack: mine
    """,
    )
    assert problems_of(folder / "voices.yaml") == [
        "voices.d/squad.yaml:4:11: voices.bad.file: ../samples/missing.wav does not exist",
        "voices.d/squad.yaml:6:5: voices.bad.dispalyName: unknown field 'dispalyName' "
        "(did you mean 'displayName'?)",
        "voices.d/squad.yaml:7:15: voices.out.file: ../../elsewhere.wav goes outside the "
        "manifest's folder with '..' (--allow-outside-files allows it)",
        "voices.d/squad.yaml:8:1: stack: unknown field 'stack': an included file holds only "
        "'voices' (and x- keys); the stack, defaults, environments and the rest belong in "
        "voices.yaml",
    ]


def test_yaml_syntax_error_in_an_included_file(folder: Path) -> None:
    write(folder, "voices.yaml", "version: 1\ninclude: ['squads/*.yaml']\nvoices: {}\n")
    write(folder, "squads/a.yaml", "voices:\n  a: [unclosed\n")
    (problem,) = problems_of(folder / "voices.yaml")
    assert problem.startswith("squads/a.yaml:3:1: YAML syntax error")


def test_a_name_declared_in_two_files_names_both(folder: Path) -> None:
    write(
        folder,
        "voices.yaml",
        """
        version: 1
        include: ["voices.d/*.yaml"]
        voices:
          narrator: {file: samples/a.wav, language: en}
    """,
    )
    write(folder, "voices.d/one.yaml", "voices:\n  solo: {file: ../samples/a.wav}\n")
    write(folder, "voices.d/two.yaml", "voices:\n\n  narrator: {file: ../samples/b.mp3}\n")
    assert problems_of(folder / "voices.yaml") == [
        "voices.d/two.yaml:3:3: voices.narrator: voice 'narrator' is declared twice: here "
        "and in voices.yaml:4:3"
    ]


def test_include_globs_stay_inside_the_manifest_folder(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "x.yaml").write_text("voices: {}\n")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    write(
        folder,
        "voices.yaml",
        f"""
        version: 1
        include:
          - ../*.yaml
          - {outside}/*.yaml
          - linked/*.yaml
          - nothing/*.yaml
        voices: {{}}
    """,
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(folder / "voices.yaml")
    assert info.value.problems == [
        "voices.yaml:3:5: include[0]: ../*.yaml goes outside the manifest's folder with '..'",
        f"voices.yaml:4:5: include[1]: {outside}/*.yaml is an absolute path; include globs "
        "are relative to the manifest's folder and stay inside it",
        "voices.yaml:5:5: include[2]: linked/*.yaml matches linked/x.yaml, which goes "
        "through a symlink (linked); included files must really be inside the manifest's "
        "folder",
    ]
    assert info.value.warnings == ["voices.yaml:6:5: include[3]: nothing/*.yaml matches no file"]


def test_a_named_include_that_is_missing_is_an_error_not_a_glob_that_matched_nothing(
    folder: Path,
) -> None:
    """Renamed in a squad's PR (support.yaml -> support.yml), a file named outright would
    drop its voices and the plan would delete their clones: it is an error."""
    (folder / "voices.d").mkdir()
    write(folder, "voices.d/support.yml", "voices: {}\n")
    write(
        folder,
        "voices.yaml",
        "version: 1\ninclude: [voices.d/support.yaml, voices.d, 'voices.d/*.yaml']\nvoices: {}\n",
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(folder / "voices.yaml")
    assert info.value.problems == [
        "voices.yaml:2:11: include[0]: voices.d/support.yaml does not exist (a named include "
        "must exist; a glob such as voices.d/*.yaml may match nothing)",
        "voices.yaml:2:34: include[1]: voices.d is a folder, not a file (a named include "
        "must exist; a glob such as voices.d/*.yaml may match nothing)",
    ]
    assert info.value.warnings == ["voices.yaml:2:44: include[2]: voices.d/*.yaml matches no file"]


def test_the_manifest_never_includes_itself(folder: Path) -> None:
    write(folder, "voices.yaml", "version: 1\ninclude: ['*.yaml']\nvoices: {}\n")
    write(folder, "more.yaml", "voices:\n  m: {file: samples/a.wav, language: en}\n")
    m = load_manifest(folder / "voices.yaml").manifest
    assert [f.rel for f in m.sources] == ["voices.yaml", "more.yaml"]
    assert list(m.voices) == ["m"]


def test_included_voices_may_be_limited_to_an_environment(folder: Path) -> None:
    write(
        folder,
        "voices.yaml",
        """
        version: 1
        include: [squad.yaml]
        environments: {staging: {apiKeyEnv: K_S}, prod: {apiKeyEnv: K_P}}
    """,
    )
    write(
        folder,
        "squad.yaml",
        """
        voices:
          beta: {file: samples/a.wav, language: en, environments: [staging]}
          typo: {file: samples/a.wav, language: en, environments: [prd]}
    """,
    )
    assert problems_of(folder / "voices.yaml") == [
        "squad.yaml:3:60: voices.typo.environments[0]: environment 'prd' is not declared; "
        "the manifest declares: staging, prod"
    ]


# ---------------------------------------------------------------- schemas


def test_the_json_schemas_describe_the_new_keys(folder: Path) -> None:
    schema = ManifestDocument.model_json_schema()
    doc = yaml.safe_load(textwrap.dedent(TWO_ENVS))
    doc["include"] = ["voices.d/*.yaml"]
    jsonschema.validate(doc, schema)
    for bad in (
        {"environments": {"staging": {"apiKeyEnv": "lower-case"}}},
        {"environments": {}},
        {"environments": {"staging": {"apiKeyEnv": "K", "extra": 1}}},
        {"voices": {"a": {"file": "a.wav", "environments": []}}},
        {"include": "voices.d/*.yaml"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"version": 1, **bad}, schema)
    included = IncludedDocument.model_json_schema()
    jsonschema.validate({"voices": {"a": {"file": "../a.wav"}}, "x-anchor": 1}, included)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"voices": {}, "stack": "s"}, included)


def test_validate_with_env_checks_that_environment_and_refuses_an_unknown_one(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli_support import run_main

    def validate(*args: str) -> tuple[int, str, str]:
        result = run_main(capsys, *args, "validate")
        assert "internal error" not in result.err
        return result.code, result.out, result.err

    write(folder, "voices.yaml", TWO_ENVS)
    code, out, _ = validate("--env", "prod")
    assert code == 0
    assert out.splitlines()[0] == (
        "voices.yaml is valid: 1 voice in environment 'prod' (stack \"team@prod\")."
    )
    code, out, _ = validate()
    assert (code, out.splitlines()[0]) == (0, 'voices.yaml is valid: 2 voices (stack "team").')
    code, _, err = validate("--env", "qa")
    assert code == 1
    assert "qa" in err and "staging, prod" in err
