"""Instant at the prompt: the quick commands import only what they need.

Each case runs the real CLI in a fresh interpreter and reads back ``sys.modules``
at exit (no timing: what is imported is what costs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox_support import write_wav
from startup_support import run_cli_probe

import reconciler.cli as cli_module

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("httpx", "httpcore", "anyio", "starlette", "uvicorn", "deepdiff", "pydantic")


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    done, modules = run_cli_probe(tmp_path, *args, env=env)
    return done, {m.split(".")[0] for m in modules}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_wav(tmp_path / "a.wav", seconds=6.0)
    (tmp_path / "voices.yaml").write_text(
        "version: 1\nstack: s\nvoices:\n"
        "  narrator: {file: a.wav, language: en}\n"
        "  newsreader: {file: a.wav, language: en}\n"
        "  bot: {file: a.wav, language: en}\n"
    )
    (tmp_path / "voices.lock.json").write_text(
        json.dumps(
            {
                "version": 1,
                "lineage": "x",
                "serial": 1,
                "stack": "s",
                "voices": {"nightly": {"voiceId": "voice_n"}},
            }
        )
    )
    return tmp_path


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["completion", "bash"]])
def test_help_version_and_completion_script_import_nothing_heavy(tmp_path, args):
    done, modules = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert "yaml" not in modules


def _complete(project: Path, words: str):
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    return run(
        project,
        env={
            "_VOICECTL_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        },
    )


@pytest.mark.parametrize(
    "words, expected",
    [
        ("voicectl plan --target ", ["bot", "narrator", "newsreader", "nightly"]),
        ("voicectl apply --replace n", ["narrator", "newsreader", "nightly"]),
        ("voicectl output ne", ["newsreader"]),
        ("voicectl migrate --target b", ["bot"]),
        ("voicectl check --target n", ["narrator", "newsreader", "nightly"]),
        ("voicectl samples b", ["bot"]),
    ],
)
def test_completion_offers_voice_names_from_the_manifest_without_the_network(
    project, words, expected
):
    done, modules = _complete(project, words)
    assert done.returncode == 0, done.stderr
    offered = [line.split(",", 1)[1] for line in done.stdout.splitlines()]
    assert offered == expected
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_completion_reads_the_lockfile_of_the_environment_named(project):
    """--env staging: the voices recorded in voices.staging.lock.json are offered (one
    the manifest no longer declares is still one `output` hands out)."""
    (project / "voices.staging.lock.json").write_text(
        json.dumps({"version": 1, "lineage": "x", "voices": {"hand-made": {"voiceId": "v"}}})
    )
    done, _modules = _complete(project, "voicectl output --env staging h")
    assert done.returncode == 0, done.stderr
    assert [line.split(",", 1)[1] for line in done.stdout.splitlines()] == ["hand-made"]
    done, _modules = _complete(project, "voicectl output h")  # no --env: the plain one
    assert done.stdout.strip() == ""


def test_completion_offers_the_voices_of_included_files_too(project):
    squads = project / "squads" / "support"
    squads.mkdir(parents=True)
    (squads / "voices.yaml").write_text("voices:\n  agent-emea: {file: ../../a.wav}\n")
    (project / "voices.d").mkdir()
    (project / "voices.d" / "extra.yaml").write_text("voices:\n  announcer: {file: ../a.wav}\n")
    manifest = project / "voices.yaml"
    manifest.write_text(
        manifest.read_text() + "include: [squads/**/voices.yaml, voices.d/*.yaml, /etc/*.yaml]\n"
    )
    done, modules = _complete(project, "voicectl plan --target a")
    assert done.returncode == 0, done.stderr
    assert [line.split(",", 1)[1] for line in done.stdout.splitlines()] == [
        "agent-emea",
        "announcer",
    ]
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_validate_of_a_small_manifest_loads_no_http_or_server_code(project):
    done, modules = run(project, "validate", "-f", "voices.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pydantic" in modules  # the manifest's models are pydantic: used, so loaded
    assert not modules & {"httpx", "httpcore", "anyio", "starlette", "uvicorn", "deepdiff"}


def test_the_help_table_matches_the_commands_themselves():
    lazy_help = CliRunner().invoke(cli_module.cli, ["--help"]).output
    cli_module._register_commands()
    for name, (module, first) in cli_module.COMMAND_TABLE.items():
        command = cli_module.cli.commands[name]
        assert command.callback.__module__ == f"reconciler.cli.{module}"
        assert command.get_short_help_str(10_000) == first
    modules = {
        p.stem
        for p in (ROOT / "reconciler" / "cli").glob("*.py")
        if "\nCOMMANDS = [" in p.read_text()
    }
    assert modules == set(cli_module.COMMAND_MODULES)  # no command missing from the table
    assert set(cli_module.cli.commands) == set(cli_module.COMMAND_TABLE)
    loaded_help = CliRunner().invoke(cli_module.cli, ["--help"]).output
    assert lazy_help == loaded_help


def test_commands_that_talk_to_the_api_skip_httpx_s_own_command_line(project):
    """httpx's package imports its CLI (pygments, rich) when it can; voicectl never runs it."""
    pytest.importorskip("pygments")  # installed with pytest: the import that is skipped
    env = {"SMALLEST_API_KEY": "k", "VOICECTL_API_URL": "http://127.0.0.1:9"}  # nothing there
    done, modules = run(project, "plan", "-f", "voices.yaml", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "httpx" in modules  # the plan did load httpx, to make its request
    assert not modules & {"pygments", "rich"}, sorted(modules & {"pygments", "rich"})
