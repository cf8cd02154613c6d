"""`voicectl init` scaffolds a project; `voicectl completion` prints shell scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from cli_support import run_main as run
from sandbox_support import ROOT, write_wav

from reconciler import schemas


def test_init_scaffolds_a_valid_project(capsys, tmp_path):
    root = tmp_path / "My Voices"
    r = run(capsys, "init", str(root))
    assert r.code == 0, r.text
    assert "voices.yaml, samples/, voices.schema.json, .gitignore (.voicectl/)" in r.out
    manifest = (root / "voices.yaml").read_text()
    assert manifest.splitlines()[0] == "# yaml-language-server: $schema=voices.schema.json"
    assert "stack: my-voices" in manifest
    assert (root / "voices.schema.json").read_text() == schemas.schema_text("voices")
    assert (root / "samples" / ".gitkeep").exists()
    assert (root / ".gitignore").read_text().splitlines()[-1] == ".voicectl/"
    r = run(capsys, "validate", "-f", str(root / "voices.yaml"))
    assert r.code == 0 and "is valid: 0 voices" in r.out


def test_the_commented_example_voice_works_once_uncommented(capsys, tmp_path):
    run(capsys, "init", str(tmp_path), "--stack", "demo")
    text = (tmp_path / "voices.yaml").read_text()
    body = text.split("# voices:\n", 1)[1]
    voices = "voices:\n" + "".join(line[2:] + "\n" for line in body.splitlines())
    (tmp_path / "voices.yaml").write_text(text.replace("voices: {}\n", "") + voices)
    write_wav(tmp_path / "samples" / "narrator.wav", seconds=6)
    r = run(capsys, "validate", "-f", str(tmp_path / "voices.yaml"))
    assert r.code == 0 and 'is valid: 1 voice (stack "demo")' in r.out, r.text


def test_init_refuses_to_overwrite_without_force(capsys, tmp_path):
    (tmp_path / "voices.yaml").write_text("version: 1\n")
    r = run(capsys, "init", str(tmp_path))
    assert r.code == 1
    assert r.err.strip() == (
        f"Error: {tmp_path / 'voices.yaml'} already exists; pass --force to overwrite it"
    )
    assert (tmp_path / "voices.yaml").read_text() == "version: 1\n"
    assert not (tmp_path / "samples").exists()  # nothing half-done
    assert run(capsys, "init", str(tmp_path), "--force").code == 0
    assert "yaml-language-server" in (tmp_path / "voices.yaml").read_text()


@pytest.mark.parametrize(
    ("in_the_way", "message"),
    [
        ("voices.yaml/", "voices.yaml: cannot write: it is a directory"),
        ("voices.schema.json/", "voices.schema.json: cannot write: it is a directory"),
        (".gitignore/", ".gitignore: cannot read: "),
        ("samples", "samples: cannot create the samples folder: a file is in the way"),
    ],
)
def test_init_that_cannot_finish_writes_nothing(capsys, tmp_path, in_the_way, message):
    path = tmp_path / in_the_way.rstrip("/")
    path.mkdir() if in_the_way.endswith("/") else path.write_text("x")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    r = run(capsys, "init", str(tmp_path), "--force")
    assert r.code == 1 and r.err.startswith(f"Error: {tmp_path}/{message}"), r.err
    assert len(r.err.strip().splitlines()) == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_gitignore_is_appended_once(capsys, tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules")  # no trailing newline
    run(capsys, "init", str(tmp_path))
    assert (tmp_path / ".gitignore").read_text() == (
        "node_modules\n# voicectl: run lock and sandbox state\n.voicectl/\n"
    )
    r = run(capsys, "init", str(tmp_path), "--force")
    assert ".gitignore" not in r.out
    assert (tmp_path / ".gitignore").read_text().count(".voicectl/") == 1


def test_schema_url_instead_of_a_local_schema(capsys, tmp_path):
    url = "https://example.test/schemas/voices.schema.json"
    run(capsys, "init", str(tmp_path), "--schema-url", url)
    assert (
        (tmp_path / "voices.yaml")
        .read_text()
        .startswith(f"# yaml-language-server: $schema={url}\n")
    )
    assert not (tmp_path / "voices.schema.json").exists()


def test_bad_stack_is_refused(capsys, tmp_path):
    r = run(capsys, "init", str(tmp_path), "--stack", "Not Valid")
    assert r.code == 1 and "--stack 'Not Valid' is not a valid name" in r.err
    assert not (tmp_path / "voices.yaml").exists()


def test_folder_name_that_is_not_a_stack_falls_back_to_default(capsys, tmp_path):
    root = tmp_path / "___"
    run(capsys, "init", str(root))
    assert "stack: default" in (root / "voices.yaml").read_text()


# ----------------------------------------------------------------------------- completion


@pytest.mark.parametrize(
    "shell, marker",
    [
        ("bash", "complete -o nosort -F _voicectl_completion voicectl"),
        ("zsh", "#compdef voicectl"),
        ("fish", "complete --no-files --command voicectl"),
    ],
)
def test_completion_scripts(capsys, shell, marker):
    r = run(capsys, "completion", shell)
    assert r.code == 0
    assert marker in r.out and "_VOICECTL_COMPLETE" in r.out


def test_completion_unknown_shell(capsys):
    r = run(capsys, "completion", "powershell")
    assert r.code == 1 and "Invalid value" in r.err


def _complete(words: str, cword: int) -> list[str]:
    env = dict(
        os.environ, _VOICECTL_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword)
    )
    out = subprocess.run(
        [sys.executable, "-m", "reconciler"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [line.split(",", 1)[1] for line in out.splitlines()]


def test_the_completion_protocol_completes_commands_options_and_choices():
    assert {"plan", "refresh"} <= set(_complete("voicectl ", 1))
    assert "--detailed-exitcode" in _complete("voicectl plan --det", 2)
    assert _complete("voicectl plan --format ", 3) == ["text", "json", "markdown"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_accepts_the_script(capsys, tmp_path):
    script = tmp_path / "voicectl.bash"
    script.write_text(run(capsys, "completion", "bash").out)
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


@pytest.mark.timeout(60)  # the old init waited for a writer for ever: fail, not hang
def test_a_fifo_gitignore_is_refused_without_waiting(capsys, tmp_path):
    os.mkfifo(tmp_path / ".gitignore")
    r = run(capsys, "init", str(tmp_path))
    assert r.code == 1
    assert r.err.strip() == (
        f"Error: {tmp_path / '.gitignore'}: cannot read: not a regular file (a FIFO)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore"]  # nothing written


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("name", ["voices.yaml", "voices.schema.json", ".gitignore"])
def test_a_symlink_in_the_way_is_refused_even_with_force(capsys, tmp_path, name, force):
    """A link (to nothing, or to a file elsewhere) where init writes: init would write
    through it, outside the folder. Refused with one line; nothing is written."""
    root, elsewhere = tmp_path / "p", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / name).symlink_to(elsewhere / name)  # dangling
    r = run(capsys, "init", str(root), *(["--force"] if force else []))
    assert r.code == 1
    assert r.err.strip() == (
        f"Error: {root / name}: is a symbolic link; init does not write through it "
        "(remove it, or run init in the folder it points into)"
    )
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in root.iterdir()) == [name]


def test_a_linked_gitignore_that_has_the_line_already_is_fine(capsys, tmp_path):
    (tmp_path / "shared.gitignore").write_text(".voicectl/\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / ".gitignore").symlink_to(tmp_path / "shared.gitignore")
    r = run(capsys, "init", str(tmp_path / "p"))
    assert r.code == 0, r.text
    assert (tmp_path / "p" / ".gitignore").is_symlink()


@pytest.mark.parametrize("stack", ["demo\n", "demo\n\n", "\ndemo"])
def test_a_stack_with_a_newline_is_refused(capsys, tmp_path, stack):
    """The whole name must match: ``$`` with re.match also matched before a final newline."""
    r = run(capsys, "init", str(tmp_path), "--stack", stack)
    assert r.code == 1 and f"--stack {stack!r} is not a valid name" in r.err
    assert not (tmp_path / "voices.yaml").exists()
