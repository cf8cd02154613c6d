"""Audit B's input findings: each bad input is one clear line at its place, exit 1.

Names, language codes and voiceIds are whole-string checks (``$`` after
``re.match`` let a trailing newline through); a scalar YAML cannot build (an
impossible date, a 5000-digit integer) is a positioned problem, never an internal
error; text problem lines stay on one line whatever the key or the value holds; a
UTF-16 file is one line; two ``<<`` merge keys are a duplicate key; a displayName
may not hide characters, and the look-alike warning compares NFC forms.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import audio_support
import pytest
import yaml
from cli_support import run_main

from reconciler import languages
from reconciler.errors import ManifestError
from reconciler.identity import plausible_voice_id
from reconciler.manifest import is_name, load_manifest
from reconciler.text import escape
from reconciler.yamlpos import LOADER, format_path, load_yaml

INVALID_NAME = "is not a valid name: use 1-63 characters from a-z 0-9 . _ -"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A manifest folder (the cwd) with a.wav: 6 s of real speech."""
    audio_support.write(tmp_path / "a.wav", audio_support.speech(6.0))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems(folder: Path, text: str, **kwargs) -> list[str]:
    path = folder / "voices.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    kwargs.setdefault("check_files", False)
    with pytest.raises(ManifestError) as info:
        load_manifest(path, **kwargs)
    return list(info.value.problems)


def validate(capsys, folder: Path, raw: bytes, *args: str) -> tuple[int, list[str]]:
    """``voicectl validate`` on ``raw``: its exit code and its stderr lines."""
    (folder / "voices.yaml").write_bytes(raw)
    result = run_main(capsys, "validate", "-f", "voices.yaml", *args)
    assert "internal error" not in result.text
    return result.code, result.err.splitlines()


# ------------------------------------------------------- B1, B2: a trailing newline


@pytest.mark.parametrize(
    ("where", "text"),
    [
        (
            "voices.yaml:2:8: stack:",
            """
            version: 1
            stack: "audit\\n"
            voices: {a: {file: a.wav, language: en}}
            """,
        ),
        (
            'voices.yaml:4:3: voices."alpha\\n":',
            """
            version: 1
            stack: audit
            voices:
              "alpha\\n": {file: a.wav, language: en}
              alpha: {file: a.wav, language: en}
            """,
        ),
        (
            'voices.yaml:3:16: environments."prod\\n":',
            """
            version: 1
            stack: audit
            environments: {"prod\\n": {apiKeyEnv: SMALLEST_API_KEY_PROD}}
            voices: {a: {file: a.wav, language: en}}
            """,
        ),
        (
            "voices.yaml:4:16: moved[0].from:",
            """
            version: 1
            stack: audit
            voices: {a: {file: a.wav, language: en}}
            moved: [{from: "b\\n", to: a}]
            """,
        ),
        (
            "voices.yaml:4:23: moved[0].to:",
            """
            version: 1
            stack: audit
            voices: {a: {file: a.wav, language: en}}
            moved: [{from: b, to: "a\\n"}]
            """,
        ),
        (
            "voices.yaml:4:11: removed[0]:",
            """
            version: 1
            stack: audit
            voices: {a: {file: a.wav, language: en}}
            removed: ["gone\\n"]
            """,
        ),
    ],
    ids=["stack", "voice-key", "environment", "moved-from", "moved-to", "removed"],
)
def test_a_name_with_a_trailing_newline_is_not_a_name(here, where, text):
    found = problems(here, text)
    assert [p for p in found if INVALID_NAME in p and p.startswith(where)], found


def test_is_name_is_a_whole_string_check():
    assert is_name("alpha") and is_name("a.b_c-9")
    for bad in ("alpha\n", "alpha\r\n", "\nalpha", "Alpha", "", None, 3):
        assert not is_name(bad), repr(bad)


def test_a_language_with_a_trailing_newline_is_an_error_not_a_warning(here):
    found = problems(
        here,
        """
        version: 1
        stack: audit
        voices:
          alpha: {file: a.wav, language: "en\\n"}
        """,
    )
    assert found == [
        "voices.yaml:4:34: voices.alpha.language: 'en\\n' is not a language code: use a "
        "lowercase ISO 639 code such as 'en' or 'hi' (optionally with subtags, 'pt-BR'), "
        "'auto' or 'multi'"
    ]
    assert languages.is_well_formed("pt-BR") and not languages.is_well_formed("pt-BR\n")
    assert languages.language_warning("en\n") is None  # refused, so no warning either


def test_a_voice_id_with_a_trailing_newline_is_not_plausible():
    assert plausible_voice_id("voice_AWcYbHYiHd")
    assert not plausible_voice_id("voice_AWcYbHYiHd\n")


def test_output_refuses_a_voice_id_with_a_trailing_newline(here, capsys):
    (here / "voices.yaml").write_text("version: 1\nstack: audit\nvoices: {}\n")
    lock = here / "voices.lock.json"
    assert run_main(capsys, "--sandbox", "apply", "--auto-approve").code == 0
    (here / "voices.yaml").write_text(
        "version: 1\nstack: audit\nvoices:\n  alpha: {file: a.wav, language: en}\n"
    )
    assert run_main(capsys, "--sandbox", "apply", "--auto-approve").code == 0
    data = json.loads(lock.read_text())
    data["voices"]["alpha"]["voiceId"] += "\n"
    lock.write_text(json.dumps(data))
    for fmt in ("json", "env", "raw"):
        result = run_main(capsys, "output", "--format", fmt)
        assert result.code == 1 and result.out == ""
        assert "not a plausible voiceId" in result.err
        assert len(result.err.strip().splitlines()) == 1


# ---------------------------------------------------- B3: scalars YAML cannot build


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "description: 2024-02-30",
            "voices.yaml:7:18: voices.alpha.description: not a valid date: '2024-02-30' "
            "(day is out of range for month; put it in quotes to keep it as text)",
        ),
        (
            "description: " + "9" * 5000,
            "voices.yaml:7:18: voices.alpha.description: number too large (5000 digits) "
            "(put it in quotes to keep it as text)",
        ),
        (
            "description: !!timestamp 2024-99-99",
            "voices.yaml:7:18: voices.alpha.description: not a valid date: '2024-99-99' "
            "(month must be in 1..12)",
        ),
        (
            "description: !!bool maybe",
            "voices.yaml:7:18: voices.alpha.description: not a valid boolean: 'maybe'",
        ),
        (
            "description: !!timestamp soon",
            "voices.yaml:7:18: voices.alpha.description: not a valid date: 'soon'",
        ),
    ],
    ids=["impossible-date", "huge-integer", "bad-timestamp", "bad-bool", "not-a-timestamp"],
)
def test_a_scalar_yaml_cannot_build_is_a_positioned_problem(here, capsys, line, expected):
    raw = (
        "version: 1\nstack: audit\nvoices:\n  alpha:\n    file: a.wav\n    language: en\n"
        f"    {line}\n"
    )
    code, lines = validate(capsys, here, raw.encode())
    assert code == 1
    assert lines == [expected, "Error: 1 problem in voices.yaml"]


@pytest.mark.parametrize("loader_class", sorted({yaml.SafeLoader, LOADER}, key=str))
def test_both_loaders_report_an_unbuildable_scalar_in_an_x_key(loader_class):
    doc = load_yaml(
        "version: 1\nx-t: !!timestamp 2024-99-99\nx-n: " + "1" * 5000 + "\n",
        loader_class=loader_class,
    )
    assert doc is not None
    assert [(str(p.pos), p.path, p.message) for p in doc.problems] == [
        ("2:6", ("x-t",), "not a valid date: '2024-99-99' (month must be in 1..12)"),
        ("3:6", ("x-n",), "number too large (5000 digits) (put it in quotes to keep it as text)"),
    ]


# ------------------------------------------------ B6: text problem lines stay one line


def test_escape_keeps_printable_text_and_escapes_the_rest():
    assert escape("Café narrator") == "Café narrator"
    assert escape("a\nb\u2028c\u202ed\u2066e\u200bf\x1bg\tï") == (
        "a\\nb\\u2028c\\u202ed\\u2066e\\u200bf\\x1bg\\tï"
    )
    assert escape(None) == ""


def test_format_path_escapes_what_is_not_printable():
    assert format_path(("voices", "Bad\nName", "file")) == 'voices."Bad\\nName".file'
    assert format_path(("voices", "ok\u2028x")) == 'voices."ok\\u2028x"'
    assert format_path(("voices", 'a"\u202eb', "tags", 1)) == 'voices."a\\"\\u202eb".tags[1]'
    assert format_path(("voices", "narrator-en", "file")) == "voices.narrator-en.file"


def test_text_problems_are_one_line_each_with_keys_and_values_escaped(here, capsys):
    raw = (
        "version: 1\nstack: audit\nvoices:\n"
        '  "Bad\\nName": {file: a.wav, language: en}\n'
        '  "ok\\u2028x": {file: a.wav, language: en}\n'
        '  good: {file: "samples/a.wav\\n", language: en}\n'
        '  good2: {file: "samples/\\u202enuf.wav", language: en}\n'
    )
    code, lines = validate(capsys, here, raw.encode())
    assert code == 1
    assert lines == [
        f"voices.yaml:4:3: voices.\"Bad\\nName\": 'Bad\\nName' {INVALID_NAME}, starting with "
        "a letter or digit",
        f"voices.yaml:5:3: voices.\"ok\\u2028x\": 'ok\\u2028x' {INVALID_NAME}, starting with "
        "a letter or digit",
        "voices.yaml:6:16: voices.good.file: samples/a.wav\\n does not exist",
        "voices.yaml:7:17: voices.good2.file: samples/\\u202enuf.wav does not exist",
        "Error: 4 problems in voices.yaml",
    ]


def test_json_and_annotations_still_clean_an_echoed_value_their_own_way(here, capsys):
    raw = b'version: 1\nstack: audit\nvoices:\n  a: {file: "s/\\u202enuf.wav", language: en}\n'
    (here / "voices.yaml").write_bytes(raw)
    result = run_main(capsys, "validate", "--format", "json")
    (error,) = json.loads(result.out)["errors"]
    assert (error["path"], error["message"]) == ("voices.a.file", "s/nuf.wav does not exist")
    result = run_main(capsys, "validate", "--format", "github")
    assert result.out.splitlines() == [
        "::error file=voices.yaml,line=4,col=13::voices.a.file: s/nuf.wav does not exist"
    ]


# -------------------------------------------------------------------- B7: UTF-16


@pytest.mark.parametrize(
    ("encoding", "bom", "name"),
    [
        ("utf-16-le", b"", "UTF-16"),
        ("utf-16-be", b"", "UTF-16"),
        ("utf-16-le", b"\xff\xfe", "UTF-16"),
        ("utf-16-be", b"\xfe\xff", "UTF-16"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32"),
    ],
)
def test_a_utf16_manifest_is_one_line(here, capsys, encoding, bom, name):
    text = "version: 1\nstack: audit\nvoices:\n  alpha: {file: a.wav, language: en}\n"
    code, lines = validate(capsys, here, bom + text.encode(encoding))
    assert code == 1
    assert lines == [
        f"voices.yaml: the manifest is {name} text; save it as UTF-8",
        "Error: 1 problem in voices.yaml",
    ]


def test_a_utf16_manifest_with_non_ascii_text_is_one_line(here, capsys):
    text = "# 日本語のボイス\nversion: 1\nvoices: {}\n"
    code, lines = validate(capsys, here, text.encode("utf-16-le"))
    assert (code, lines[0]) == (1, "voices.yaml: the manifest is UTF-16 text; save it as UTF-8")


def test_a_utf16_included_file_is_one_line(here, capsys):
    (here / "more.yaml").write_bytes(
        "voices:\n  beta: {file: a.wav, language: en}\n".encode("utf-16")
    )
    raw = b"version: 1\nstack: audit\ninclude: [more.yaml]\nvoices: {}\n"
    code, lines = validate(capsys, here, raw)
    assert code == 1
    assert lines == [
        "more.yaml: the included file is UTF-16 text; save it as UTF-8",
        "Error: 1 problem in more.yaml",
    ]


def test_a_pasted_nul_in_utf8_is_still_named_as_such(here, capsys):
    code, lines = validate(capsys, here, b"version: 1\nstack: a\x00udit\nvoices: {}\n")
    assert code == 1
    assert any(ln.startswith("voices.yaml:2:9: stack: control character NUL") for ln in lines)
    assert "UTF-16" not in "".join(lines)


# ------------------------------------------------------ B9: two << in one mapping


def test_two_merge_keys_in_one_mapping_are_a_duplicate_key(here):
    found = problems(
        here,
        """
        version: 1
        stack: audit
        x-a: &a {language: en}
        x-b: &b {language: es}
        voices:
          alpha:
            <<: *a
            <<: *b
            file: a.wav
          beta:
            <<: [*a, *b]
            file: a.wav
        """,
    )
    assert found == [
        "voices.yaml:8:5: voices.alpha.\"<<\": duplicate key '<<' (first defined on line 7); "
        "to merge several mappings, write <<: [*a, *b]"
    ]


def test_a_list_of_merges_still_takes_the_first_one(here):
    path = here / "voices.yaml"
    path.write_text(
        "version: 1\nstack: audit\nx-a: &a {language: en}\nx-b: &b {language: es}\n"
        "voices:\n  beta:\n    <<: [*a, *b]\n    file: a.wav\n"
    )
    assert load_manifest(path, check_files=False).manifest.voices["beta"].language == "en"


# ----------------------------------------------------------- B10: hidden displayNames


def _display(value: str) -> str:
    return (
        "version: 1\nstack: audit\nvoices:\n"
        f'  a: {{file: a.wav, language: en, displayName: "{value}"}}\n'
    )


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        ("Caf\\u200b\u00e9", "or invisible characters (it holds U+200B zero width space)"),
        ("\\u202eevil", "or invisible characters (it holds U+202E right-to-left override)"),
        ("a\\u2066b", "or invisible characters (it holds U+2066 left-to-right isolate)"),
        ("a\\u200eb", "or invisible characters (it holds U+200E left-to-right mark)"),
        ("x\\ufeff", "or invisible characters (it holds U+FEFF zero width no-break space)"),
        ("line\\u2028break", "characters (it holds U+2028 line separator)"),
        ("para\\u2029graph", "characters (it holds U+2029 paragraph separator)"),
    ],
)
def test_a_display_name_may_not_hide_characters(here, value, holds):
    found = problems(here, _display(value))
    assert found == [
        "voices.yaml:4:47: voices.a.displayName: a displayName must be one line, without "
        f"control {holds}"
    ]


@pytest.mark.parametrize("value", ["\\u200b", " \\u200b\\u00a0", "\\u2060\\u200d"])
def test_a_display_name_of_only_invisible_characters_is_blank(here, value):
    assert problems(here, _display(value)) == [
        "voices.yaml:4:47: voices.a.displayName: a displayName may not be blank (only spaces "
        "and invisible characters)"
    ]


def test_a_display_name_with_a_non_breaking_space_is_still_fine(here):
    path = here / "voices.yaml"
    path.write_text(_display("Narrator\\u00a0EN"), encoding="utf-8")
    voice = load_manifest(path, check_files=False).manifest.voices["a"]
    assert voice.display_name == "Narrator\u00a0EN"


def test_display_names_equal_after_nfc_are_flagged_as_the_same(here):
    path = here / "voices.yaml"
    path.write_text(
        "version: 1\nstack: audit\nvoices:\n"
        '  a1: {file: a.wav, language: en, displayName: "Caf\\u00e9"}\n'
        '  a2: {file: a.wav, language: en, displayName: "Cafe\\u0301"}\n',
        encoding="utf-8",
    )
    result = load_manifest(path, check_files=False)
    assert result.warnings == [
        "voices.yaml:5:48: voices.a2.displayName: displayName 'Cafe\u0301' is also the "
        "displayName of voices.a1 (line 4) (written with other Unicode code points, but it "
        "looks the same); the service allows it, but it is confusing"
    ]
