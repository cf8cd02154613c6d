"""Broken manifests and sample files, run through the real CLI (`voicectl validate`).

Every case asserts: exit code 1, one stderr line per problem, each problem at
the expected ``voices.yaml:LINE:COL:`` with the expected text, a final
``Error: N problems in voices.yaml`` line, and no traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import audio_support
import pytest
from privileges import run_unprivileged
from sandbox_support import write_wav

from reconciler.audio import MAX_BYTES
from reconciler.cli import main

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
ROOT = Path(__file__).parents[2]

Setup = Callable[[Path], None]


def copy(fixture: str, to: str) -> Setup:
    def setup(folder: Path) -> None:
        (folder / to).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(AUDIO / fixture, folder / to)

    return setup


def text_file(to: str, content: str) -> Setup:
    return lambda folder: (folder / to).write_text(content)


def big_wav(to: str) -> Setup:
    def setup(folder: Path) -> None:
        path = write_wav(folder / to, seconds=6, freq=0, rate=8000)
        with open(path, "ab") as fh:  # sparse: nothing is written to disk
            fh.truncate(MAX_BYTES + 1000)

    return setup


def symlink(to: str, target: Path) -> Setup:
    return lambda folder: (folder / to).symlink_to(target)


def directory(to: str) -> Setup:
    return lambda folder: (folder / to).mkdir(parents=True)


OUTSIDE = AUDIO / "tone-6s.wav"  # outside any test folder


@dataclass
class Case:
    id: str
    manifest: str | bytes
    expect: list[tuple[int, int | None, str]]  # (line, col or None, text in the message)
    setup: list[Setup] = field(default_factory=list)
    args: list[str] = field(default_factory=list)


GOOD = "samples/good.wav"

CASES = [
    # ------------------------------------------------------------ YAML itself
    Case("yaml-unclosed-flow-mapping", "version: 1\nvoices: {a: {file: x.wav}\n",
         [(3, 1, "YAML syntax error: expected ',' or '}'")]),
    Case("yaml-tab-indent", "version: 1\nvoices:\n\ta: {file: x.wav}\n",
         [(3, 1, "found character '\\t' that cannot start any token")]),
    Case("yaml-bad-indent",
         "version: 1\nvoices:\n  a:\n    file: samples/good.wav\n   language: en\n",
         [(5, 4, "YAML syntax error")]),
    Case("yaml-two-documents", "version: 1\n---\nversion: 1\n",
         [(2, 1, "expected a single document")]),
    Case("yaml-unknown-tag", "version: 1\nvoices:\n  a: {file: !secret x.wav}\n",
         [(3, 13, "voices.a.file: the YAML tag '!secret' is not supported")]),
    Case("yaml-complex-key", "version: 1\n? [a, b]\n: 1\n",
         [(2, 3, "a key must be plain text")]),
    Case("not-utf8", b"version: 1\nstack: caf\xe9\n", [(2, 11, "not UTF-8 text (byte 0xe9)")]),
    # ------------------------------------------------------------ document shape
    Case("empty-file", "", [(1, 1, "the manifest is empty")]),
    Case("only-comments", "# nothing here yet\n\n", [(1, 1, "the manifest is empty")]),
    Case("top-level-list", "- version: 1\n",
         [(1, 1, "must be a mapping of fields (version, stack, voices, ...), got a list")]),
    Case("top-level-text", "hello\n", [(1, 1, "must be a mapping of fields")]),
    Case("missing-version", "stack: s\nvoices: {}\n", [(1, 1, "missing 'version: 1'")]),
    Case("version-2", "version: 2\n", [(1, 10, "version: unsupported version 2")]),
    Case("version-quoted", 'version: "1"\n', [(1, 10, "unsupported version '1'")]),
    Case("version-true", "version: true\n", [(1, 10, "unsupported version true")]),
    Case("version-float", "version: 1.0\n", [(1, 10, "unsupported version 1.0")]),
    # ------------------------------------------------------------ duplicates
    Case("duplicate-top-level-key", "version: 1\nstack: a\nstack: b\n",
         [(3, 1, "stack: duplicate key 'stack' (first defined on line 2)")]),
    Case("duplicate-voice",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}}}\n  a: {{file: {GOOD}}}\n",
         [(4, 3, "voices.a: duplicate key 'a' (first defined on line 3)")]),
    Case("duplicate-field-in-voice",
         f"version: 1\nvoices:\n  a:\n    file: {GOOD}\n    language: en\n    file: x.wav\n",
         [(6, 5, "voices.a.file: duplicate key 'file' (first defined on line 4)")]),
    Case("duplicate-in-defaults", "version: 1\ndefaults:\n  language: en\n  language: hi\n",
         [(4, 3, "defaults.language: duplicate key 'language' (first defined on line 3)")]),
    # ------------------------------------------------------------ unknown fields
    Case("unknown-top-field", f"version: 1\nvoice:\n  a: {{file: {GOOD}}}\n",
         [(2, 1, "voice: unknown field 'voice' (did you mean 'voices'?)")]),
    Case("unknown-voice-field-typo",
         f"version: 1\nvoices:\n  a:\n    file: {GOOD}\n    dispalyName: A\n",
         [(5, 5, "voices.a.dispalyName: unknown field 'dispalyName' "
                 "(did you mean 'displayName'?)")]),
    Case("unknown-voice-field-case",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}, display_name: A}}\n",
         [(3, 31, "unknown field 'display_name' (did you mean 'displayName'?)")]),
    Case("unknown-defaults-field", "version: 1\ndefaults: {tag: [x]}\n",
         [(2, 12, "defaults.tag: unknown field 'tag' (did you mean 'tags'?)")]),
    Case("unknown-field-no-match", f"version: 1\nvoices:\n  a: {{file: {GOOD}, colour: red}}\n",
         [(3, 31, "unknown field 'colour'; allowed: file, displayName, language, description, "
                  "accent, model, tags, protect, quality, allowQuality, environments")]),
    # ------------------------------------------------------------ names and enums
    Case("bad-stack-name", "version: 1\nstack: Support Bots\n",
         [(2, 8, "stack: 'Support Bots' is not a valid name")]),
    Case("bad-voice-name", f"version: 1\nvoices:\n  Narrator: {{file: {GOOD}}}\n",
         [(3, 3, "voices.Narrator: 'Narrator' is not a valid name")]),
    Case("voice-name-too-long", f"version: 1\nvoices:\n  {'n' * 64}: {{file: {GOOD}}}\n",
         [(3, 3, "is not a valid name: use 1-63 characters")]),
    Case("bad-prune", "version: 1\nprune: everything\n",
         [(2, 8, "prune: expected one of 'managed', 'all' or 'none'; got the text 'everything'")]),
    Case("ignore-empty-entry", "version: 1\nignore: ['Test *', '']\n",
         [(2, 20, "ignore[1]: may not be empty")]),
    # ------------------------------------------------------------ fields
    Case("display-name-too-long",
         f"version: 1\nvoices:\n  a:\n    file: {GOOD}\n    displayName: {'d' * 501}\n",
         [(5, 18, "a displayName must be 1-500 characters, this one has 501")]),
    Case("display-name-empty", f"version: 1\nvoices:\n  a: {{file: {GOOD}, displayName: ''}}\n",
         [(3, 44, "a displayName must be 1-500 characters, this one has 0")]),
    Case("display-name-two-lines",
         f'version: 1\nvoices:\n  a: {{file: {GOOD}, displayName: "one\\ntwo"}}\n',
         [(3, 44, "must be one line")]),
    Case("tag-with-comma", f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: [ok, 'a,b']}}\n",
         [(3, 42, "voices.a.tags[1]: tag 'a,b' contains a comma")]),
    Case("tag-reserved-prefix",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: [voicectl-stack:x]}}\n",
         [(3, 38, "tag 'voicectl-stack:x' starts with 'voicectl-', which voicectl reserves")]),
    Case("tag-reserved-in-defaults", "version: 1\ndefaults:\n  tags: [voicectl-name]\n",
         [(3, 10, "defaults.tags[0]: tag 'voicectl-name' starts with 'voicectl-'")]),
    Case("tag-empty", f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: ['']}}\n",
         [(3, 38, "voices.a.tags[0]: a tag may not be empty")]),
    Case("tag-repeated", f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: [x, y, x]}}\n",
         [(3, 44, "voices.a.tags[2]: tag 'x' is repeated (first at voices.a.tags[0])")]),
    Case("tag-surrounding-spaces",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: [' x']}}\n",
         [(3, 38, "tag ' x' starts or ends with spaces (the service trims them)")]),
    Case("language-malformed", f"version: 1\nvoices:\n  a: {{file: {GOOD}, language: English}}\n",
         [(3, 41, "voices.a.language: 'English' is not a language code")]),
    Case("language-underscore", "version: 1\ndefaults: {language: en_US}\n",
         [(2, 22, "defaults.language: 'en_US' is not a language code")]),
    Case("language-norway-problem",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}, language: no}}\n",
         [(3, 41, 'expected text, got the boolean no (put it in quotes: "no")')]),
    Case("description-number",
         f"version: 1\nvoices:\n  a: {{file: {GOOD}, description: 2024}}\n",
         [(3, 44, 'expected text, got the number 2024 (put it in quotes: "2024")')]),
    Case("protect-quoted", f"version: 1\nvoices:\n  a: {{file: {GOOD}, protect: 'yes'}}\n",
         [(3, 40, "voices.a.protect: expected true or false, got the text 'yes'")]),
    Case("tags-not-a-list", f"version: 1\nvoices:\n  a: {{file: {GOOD}, tags: narration}}\n",
         [(3, 37, "voices.a.tags: expected a list, got the text 'narration'")]),
    Case("voice-not-a-mapping", f"version: 1\nvoices:\n  a: {GOOD}\n",
         [(3, 6, "voices.a: expected a mapping (key: value lines), got the text")]),
    Case("voices-is-a-list", "version: 1\nvoices: [a, b]\n",
         [(2, 9, "voices: expected a mapping (key: value lines), got a list")]),
    Case("missing-file", "version: 1\nvoices:\n  a: {displayName: A}\n",
         [(3, 3, "voices.a: missing required field 'file'")]),
    Case("file-empty", "version: 1\nvoices:\n  a: {file: ''}\n",
         [(3, 13, "voices.a.file: may not be empty")]),
    # ------------------------------------------------------------ files
    Case("file-missing", "version: 1\nvoices:\n  a:\n    file: samples/n.wav\n",
         [(4, 11, "voices.a.file: samples/n.wav does not exist")]),
    Case("file-is-directory", "version: 1\nvoices:\n  a: {file: samples}\n",
         [(3, 13, "voices.a.file: samples is a directory, not an audio file")]),
    Case("file-text-named-wav", "version: 1\nvoices:\n  a: {file: fake.wav}\n",
         [(3, 13, "fake.wav is not wav, mp3, mp4 or webm audio: it looks like "
                  "text ('RIFF? no. Just some notes.')")],
         setup=[text_file("fake.wav", "RIFF? no. Just some notes.\n")]),
    Case("file-over-5-mb", "version: 1\nvoices:\n  a: {file: big.wav}\n",
         [(3, 13, "big.wav is 5.0 MB (5001000 bytes); the service accepts at most 5 MB")],
         setup=[big_wav("big.wav")]),
    Case("file-too-short", "version: 1\nvoices:\n  a: {file: short.wav}\n",
         [(3, 13, "short.wav is 2.0 s long; the service wants 5-15 s of clean speech "
                  "(--allow-any-duration accepts it)")],
         setup=[copy("tone-2s.wav", "short.wav")]),
    Case("file-too-long", "version: 1\nvoices:\n  a: {file: long.mp3}\n",
         [(3, 13, "long.mp3 is 20.2 s long")], setup=[copy("tone-20s.mp3", "long.mp3")]),
    Case("file-corrupt-wav", "version: 1\nvoices:\n  a: {file: broken.wav}\n",
         [(3, 13, "broken.wav is not readable wav audio: no fmt chunk")],
         setup=[lambda f: (f / "broken.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAVEjunk")]),
    Case("file-truncated-mp3", "version: 1\nvoices:\n  a: {file: cut.mp3}\n",
         [(3, 13, "cut.mp3 looks truncated: its header says 7.2 s")],
         setup=[lambda f: (f / "cut.mp3").write_bytes(
             (AUDIO / "tone-7s-id3.mp3").read_bytes()[:500])]),
    Case("file-dotdot", "version: 1\nvoices:\n  a: {file: ../outside.wav}\n",
         [(3, 13, "../outside.wav goes outside the manifest's folder with '..'")]),
    Case("file-absolute", f"version: 1\nvoices:\n  a: {{file: '{OUTSIDE}'}}\n",
         [(3, 13, f"{OUTSIDE} is an absolute path")]),
    Case("file-symlink", "version: 1\nvoices:\n  a: {file: samples/link.wav}\n",
         [(3, 13, "samples/link.wav goes through a symlink (samples/link.wav)")],
         setup=[symlink("samples/link.wav", OUTSIDE)]),
    Case("file-under-symlinked-dir", "version: 1\nvoices:\n  a: {file: shared/tone-6s.wav}\n",
         [(3, 13, "goes through a symlink (shared)")],
         setup=[symlink("shared", AUDIO)]),
    Case("display-name-matches-ignore",
         f"version: 1\nignore: ['Test *']\nvoices:\n  a: {{file: {GOOD}, displayName: Test A}}\n",
         [(4, 44, "displayName 'Test A' matches ignore[0] 'Test *'")]),
    Case("duration-flag-does-not-excuse-size",
         "version: 1\nvoices:\n  a: {file: big.wav}\n",
         [(3, 13, "the service accepts at most 5 MB")],
         setup=[big_wav("big.wav")], args=["--allow-any-duration"]),
    # ------------------------------------------------------------ everything at once
    Case(
        "many-problems-at-once",
        "\n".join([
            "version: 1",  # 1
            "stack: Bad_Stack",  # 2
            "prune: sometimes",  # 3
            "defaults:",  # 4
            "  langauge: en",  # 5
            "voices:",  # 6
            "  narrator:",  # 7
            "    file: samples/n.wav",  # 8
            "    tags: [a, 'b,c', a]",  # 9
            "  Other:",  # 10
            f"    file: {GOOD}",  # 11
            "  third:",  # 12
            "    file: ../x.wav",  # 13
            "    language: EN",  # 14
            "    protect: maybe",  # 15
            "  narrator:",  # 16
            f"    file: {GOOD}",  # 17
            "",
        ]),
        [
            (2, 8, "stack: 'Bad_Stack' is not a valid name"),
            (3, 8, "prune: expected one of"),
            (5, 3, "defaults.langauge: unknown field 'langauge' (did you mean 'language'?)"),
            (8, 11, "voices.narrator.file: samples/n.wav does not exist"),
            (9, 15, "voices.narrator.tags[1]: tag 'b,c' contains a comma"),
            (9, 22, "voices.narrator.tags[2]: tag 'a' is repeated"),
            (10, 3, "voices.Other: 'Other' is not a valid name"),
            (13, 11, "voices.third.file: ../x.wav goes outside the manifest's folder"),
            (14, 15, "voices.third.language: 'EN' is not a language code"),
            (15, 14, "voices.third.protect: expected true or false, got the text 'maybe'"),
            (16, 3, "voices.narrator: duplicate key 'narrator' (first defined on line 7)"),
        ],
    ),
]  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "repo"
    (work / "samples").mkdir(parents=True)
    # real speech: a tone is not speech and would draw quality warnings
    audio_support.write(work / "samples" / "good.wav", audio_support.speech(6.0))
    audio_support.write(tmp_path / "outside.wav", audio_support.speech(6.0))
    monkeypatch.chdir(work)
    for name in ("VOICECTL_FILE", "VOICECTL_ALLOW_ANY_DURATION", "VOICECTL_ALLOW_OUTSIDE_FILES"):
        monkeypatch.delenv(name, raising=False)
    return work


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def write_manifest(folder: Path, content: str | bytes) -> None:
    path = folder / "voices.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_manifest(folder, case.manifest)
    for setup in case.setup:
        setup(folder)
    code, out, err = run_cli(["validate", "-f", "voices.yaml", *case.args], capsys)

    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert out == ""
    lines = err.splitlines()
    problems = [ln for ln in lines if not ln.startswith(("warning: ", "Error: "))]
    n = len(case.expect)
    assert lines[-1] == f"Error: {n} problem{'' if n == 1 else 's'} in voices.yaml", err
    assert len(problems) == n, err
    for (line, col, text), problem in zip(case.expect, problems):
        prefix = f"voices.yaml:{line}:{col}: " if col else f"voices.yaml:{line}:"
        assert problem.startswith(prefix) and text in problem, (problem, prefix, text)


def test_unreadable_file(folder: Path) -> None:
    write_manifest(folder, f"version: 1\nvoices:\n  a: {{file: {GOOD}}}\n")
    (folder / GOOD).chmod(0)
    try:
        done = run_unprivileged(["-m", "reconciler", "validate"], cwd=folder)
    finally:
        (folder / GOOD).chmod(0o644)
    assert done.returncode == 1, done.stderr
    problems = [ln for ln in done.stderr.splitlines() if not ln.startswith("warning: ")]
    assert problems[0] == (
        "voices.yaml:3:13: voices.a.file: samples/good.wav cannot be read: permission denied"
    )


def test_unreadable_manifest(folder: Path) -> None:
    write_manifest(folder, "version: 1\n")
    (folder / "voices.yaml").chmod(0)
    try:
        done = run_unprivileged(["-m", "reconciler", "validate"], cwd=folder)
    finally:
        (folder / "voices.yaml").chmod(0o644)
    assert done.returncode == 1
    assert "voices.yaml: cannot read the manifest: permission denied" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_manifest(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["validate", "-f", "nope.yaml"], capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == ["nope.yaml: the manifest does not exist",
                                "Error: 1 problem in nope.yaml"]  # fmt: skip


def test_warnings_do_not_fail_validation(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_manifest(
        folder,
        f"version: 1\nstack: support-bots\nvoices:\n"
        f"  a: {{file: {GOOD}, displayName: Same, language: xx}}\n"
        f"  b: {{file: {GOOD}, displayName: Same, language: en}}\n",
    )
    code, out, err = run_cli(["validate"], capsys)
    assert code == 0, err
    assert out == 'voices.yaml is valid: 2 voices (stack "support-bots").\n'
    lines = err.splitlines()
    assert len(lines) == 2 and all(ln.startswith("warning: voices.yaml:") for ln in lines)
    assert "language 'xx' is not known" in lines[0]
    assert "displayName 'Same' is also the displayName of voices.a (line 4)" in lines[1]


def test_allow_flags_and_env(folder: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    audio_support.write(folder / "short.wav", audio_support.speech(2.0))
    write_manifest(  # 2 s is less speech than the 3 s a clone needs: accepted on purpose
        folder,
        "version: 1\nvoices:\n  a: {file: ../outside.wav, language: en}\n"
        "  b: {file: short.wav, language: en, allowQuality: [speech]}\n",
    )
    assert run_cli(["validate"], capsys)[0] == 1
    code, out, err = run_cli(["validate", "--allow-outside-files", "--allow-any-duration"], capsys)
    assert code == 0 and out.startswith("voices.yaml is valid: 2 voices"), err
    assert err == (
        "warning: voices.yaml:4:13: voices.b.file: short.wav is 2.0 s long; "
        "the service wants 5-15 s of clean speech\n"
    )
    monkeypatch.setenv("VOICECTL_ALLOW_OUTSIDE_FILES", "1")
    monkeypatch.setenv("VOICECTL_ALLOW_ANY_DURATION", "1")
    assert run_cli(["validate"], capsys)[0] == 0


def test_file_option_from_env_and_global_options_after_command(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "conf").mkdir()
    shutil.copy(AUDIO / "tone-6s.wav", folder / "conf" / "a.wav")
    (folder / "conf" / "voices.yaml").write_text(
        "version: 1\nvoices:\n  a: {file: a.wav, language: en}\n"
    )
    monkeypatch.setenv("VOICECTL_FILE", "conf/voices.yaml")
    code, out, err = run_cli(["validate", "--no-color", "--debug"], capsys)
    assert code == 0, err
    assert out == 'conf/voices.yaml is valid: 1 voice (stack "default").\n'


def test_real_entry_point_in_a_subprocess(tmp_path: Path) -> None:
    (tmp_path / "voices.yaml").write_text("version: 1\nstack: Bad\nvoices:\n  a: {file: n.wav}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_")}
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "warning: voices.yaml:4:3: voices.a: no language set; the service strongly advises "
        "one (set it here or in defaults)",
        "voices.yaml:2:8: stack: 'Bad' is not a valid name: use 1-63 characters from "
        "a-z 0-9 . _ -, starting with a letter or digit",
        "voices.yaml:4:13: voices.a.file: n.wav does not exist",
        "Error: 2 problems in voices.yaml",
    ]


def test_example_validates_through_the_cli() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_")}
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "-f", "voices.yaml.example"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == 'voices.yaml.example is valid: 3 voices (stack "example").\n'


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_stops_plan_and_apply_before_any_api_call(
    case: Case,
    command: str,
    folder: Path,
    sandbox_server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same problems, from plan and apply, and the sandbox saw no request at all."""
    write_manifest(folder, case.manifest)
    for setup in case.setup:
        setup(folder)
    monkeypatch.setenv("SMALLEST_API_KEY", "sk-bad-input-suite")
    args = [command, "-f", "voices.yaml", "--api-url", sandbox_server.url, *case.args]
    if command == "apply":
        args.append("--auto-approve")
    code, out, err = run_cli(args, capsys)
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    for line, col, text in case.expect:
        prefix = f"Error: voices.yaml:{line}:{col}: " if col else f"Error: voices.yaml:{line}:"
        assert any(ln.startswith(prefix) and text in ln for ln in err.splitlines()), (prefix, err)
    assert sum(sandbox_server.stats()["requests"].values()) == 0
