"""The manifest: parsing, defaults, name rules, file resolution, flags, warnings."""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
from pathlib import Path

import audio_support
import jsonschema
import pytest
import yaml

from reconciler import languages
from reconciler.audio import file_sha256
from reconciler.errors import ManifestError
from reconciler.manifest import (
    ManifestDocument,
    display_path,
    load_manifest,
)
from reconciler.yamlpos import MAX_NODES, load_yaml

ROOT = Path(__file__).parents[2]
AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
GOOD = AUDIO / "tone-6s.wav"


def write(folder: Path, text: str, name: str = "voices.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path, **kwargs)
    return info.value.problems


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A manifest folder with samples/a.wav (6 s) and samples/b.mp3 (7.2 s) of real
    speech (a tone is not speech: it would draw quality warnings); cwd is it."""
    (tmp_path / "samples").mkdir()
    audio_support.write(tmp_path / "samples" / "a.wav", audio_support.speech(6.0))
    audio_support.write(tmp_path / "samples" / "b.mp3", audio_support.speech(7.2))
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- parsing and defaults


def test_example_manifest_is_valid_and_resolved() -> None:
    result = load_manifest(ROOT / "voices.yaml.example")
    m = result.manifest
    assert result.warnings == []
    assert (m.version, m.stack, m.prune, m.ignore) == (1, "example", "managed", ("Scratch *",))
    assert list(m.voices) == ["narrator-en", "support-agent-en", "support-agent-es"]
    narrator = m.voices["narrator-en"]
    assert narrator.protect is True
    assert narrator.tags == ("example", "support", "narration")
    assert narrator.file == ROOT / "examples" / "narrator.wav"
    assert narrator.file_rel == "examples/narrator.wav"
    assert narrator.file_sha256 == file_sha256(ROOT / "examples" / "narrator.wav")
    assert narrator.audio_format == "wav" and narrator.mime_type == "audio/wav"
    assert 5 <= (narrator.duration or 0) <= 15
    es = m.voices["support-agent-es"]
    assert (es.language, es.accent, es.audio_format) == ("es", "neutral", "wav")
    assert m.voices["support-agent-en"].audio_format == "mp3"
    assert m.raw_sha256 == hashlib.sha256((ROOT / "voices.yaml.example").read_bytes()).hexdigest()
    assert m.root == ROOT


def test_defaults_apply_and_voices_override(folder: Path) -> None:
    path = write(
        folder,
        """
        version: 1
        stack: support-bots
        defaults:
          language: en
          accent: general
          description: Default description
          tags: [brand, support]
        voices:
          plain:
            file: samples/a.wav
          custom:
            file: ./samples/b.mp3
            displayName: Custom Voice
            language: hi
            accent: indian
            description: Own description
            tags: [support, hindi]
            protect: true
          cleared:
            file: samples/a.wav
            language: null
            description: null
        """,
    )
    result = load_manifest(path)
    m = result.manifest
    plain, custom, cleared = m.voices["plain"], m.voices["custom"], m.voices["cleared"]
    assert (plain.display_name, plain.language, plain.accent) == ("plain", "en", "general")
    assert plain.description == "Default description"
    assert plain.tags == ("brand", "support")
    assert plain.protect is False
    assert plain.line == 9 and custom.line == 11 and cleared.line == 19
    assert custom.display_name == "Custom Voice"
    assert (custom.language, custom.accent, custom.description) == (
        "hi",
        "indian",
        "Own description",
    )
    assert custom.tags == ("brand", "support", "hindi")  # union, defaults first, no repeats
    assert custom.file == folder / "samples" / "b.mp3" and custom.file_rel == "./samples/b.mp3"
    assert custom.protect is True
    assert (cleared.language, cleared.description, cleared.accent) == (None, None, "general")
    assert result.warnings == [
        "voices.yaml:19:3: voices.cleared: no language set; the service strongly advises one "
        "(set it here or in defaults)"
    ]


def test_top_level_defaults(folder: Path) -> None:
    m = load_manifest(
        write(folder, "version: 1\nvoices: {v: {file: samples/a.wav, language: en}}\n")
    )
    assert (m.manifest.stack, m.manifest.prune, m.manifest.ignore) == ("default", "managed", ())


@pytest.mark.parametrize("voices", ["", "voices:\n", "voices: {}\n", "voices: null\n"])
def test_empty_or_missing_voices_is_valid(folder: Path, voices: str) -> None:
    result = load_manifest(write(folder, f"version: 1\nstack: s\nprune: managed\n{voices}"))
    assert result.manifest.voices == {} and result.warnings == []


@pytest.mark.parametrize("name", ["a", "0", "narrator-en", "a.b_c-d", "x" * 63, "9lives"])
def test_valid_names(folder: Path, name: str) -> None:
    path = write(
        folder,
        f"version: 1\nstack: '{name}'\n"
        f"voices:\n  '{name}': {{file: samples/a.wav, language: en}}\n",
    )
    assert list(load_manifest(path).manifest.voices) == [name]


@pytest.mark.parametrize("name", ["A", "-a", ".a", "_a", "x" * 64, "a b", "ä", "a/b", "Narrator"])
def test_invalid_names(folder: Path, name: str) -> None:
    path = write(folder, f"version: 1\nvoices:\n  '{name}': {{file: samples/a.wav}}\n")
    assert problems_of(path) == [
        f"voices.yaml:3:3: voices.{_quoted(name)}: {name!r} is not a valid name: use 1-63 "
        "characters from a-z 0-9 . _ -, starting with a letter or digit"
    ]


def _quoted(name: str) -> str:
    return name if all(c.isalnum() or c in "_-" for c in name) else f'"{name}"'


def test_names_with_dots_are_quoted_in_paths(folder: Path) -> None:
    path = write(folder, "version: 1\nvoices:\n  narrator.v2: {file: samples/missing.wav}\n")
    assert problems_of(path) == [
        'voices.yaml:3:23: voices."narrator.v2".file: samples/missing.wav does not exist'
    ]


def test_display_name_length_limits(folder: Path) -> None:
    ok = "x" * 500
    path = write(
        folder,
        f"version: 1\nvoices:\n  v: {{file: samples/a.wav, language: en, displayName: {ok}}}\n",
    )
    assert load_manifest(path).manifest.voices["v"].display_name == ok
    path = write(folder, f"version: 1\nvoices:\n  v: {{file: samples/a.wav, displayName: {ok}y}}\n")
    assert problems_of(path) == [
        "voices.yaml:3:41: voices.v.displayName: a displayName must be 1-500 characters, "
        "this one has 501"
    ]


def test_extension_keys_hold_anchors_and_merge_keys_work(folder: Path) -> None:
    path = write(
        folder,
        """
        version: 1
        x-common: &common
          language: hi
          tags: [shared]
        voices:
          one:
            <<: *common
            file: samples/a.wav
          two:
            <<: *common
            file: samples/b.mp3
            tags: [own]
        """,
    )
    voices = load_manifest(path).manifest.voices
    assert voices["one"].tags == ("shared",) and voices["one"].language == "hi"
    assert voices["two"].tags == ("own",)  # an explicit key beats the merged one


def test_bom_and_crlf_are_fine(folder: Path) -> None:
    path = folder / "voices.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfversion: 1\r\nvoices:\r\n  v: {file: samples/a.wav, language: en}\r\n"
    )
    assert list(load_manifest(path).manifest.voices) == ["v"]


def test_is_ignored(folder: Path) -> None:
    path = write(folder, "version: 1\nignore: ['Test *', voice_abc123]\n")
    m = load_manifest(path).manifest
    assert m.is_ignored("Test voice") and m.is_ignored("x", "voice_abc123")
    assert not m.is_ignored("test voice") and not m.is_ignored("Prod", "voice_x")


# ---------------------------------------------------------------- files


def test_file_with_dotdot_escape_is_refused_unless_allowed(folder: Path) -> None:
    inner = folder / "conf"
    inner.mkdir()
    path = write(inner, "version: 1\nvoices:\n  v: {file: ../samples/a.wav, language: en}\n")
    assert problems_of(path) == [
        "conf/voices.yaml:3:13: voices.v.file: ../samples/a.wav goes outside the manifest's "
        "folder with '..' (--allow-outside-files allows it)"
    ]
    spec = load_manifest(path, allow_outside_files=True).manifest.voices["v"]
    assert spec.file == folder / "samples" / "a.wav"
    assert spec.file_rel == "../samples/a.wav"


def test_absolute_file_is_refused_unless_allowed(folder: Path) -> None:
    target = folder / "samples" / "a.wav"
    path = write(folder, f"version: 1\nvoices:\n  v: {{file: '{target}', language: en}}\n")
    assert problems_of(path) == [
        f"voices.yaml:3:13: voices.v.file: {target} is an absolute path; a sample must be "
        "inside the manifest's folder (--allow-outside-files allows it)"
    ]
    assert load_manifest(path, allow_outside_files=True).manifest.voices["v"].file == target


@pytest.mark.parametrize("link_at", ["file", "folder"])
def test_symlink_anywhere_on_the_path_is_refused_unless_allowed(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, link_at: str
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(GOOD, outside / "a.wav")
    if link_at == "file":
        (folder / "samples" / "link.wav").symlink_to(outside / "a.wav")
        rel, shown = "samples/link.wav", "samples/link.wav"
    else:
        (folder / "linked").symlink_to(outside, target_is_directory=True)
        rel, shown = "linked/a.wav", "linked"
    path = write(folder, f"version: 1\nvoices:\n  v: {{file: {rel}, language: en}}\n")
    assert problems_of(path) == [
        f"voices.yaml:3:13: voices.v.file: {rel} goes through a symlink ({shown}); a sample "
        "must really be inside the manifest's folder (--allow-outside-files allows it)"
    ]
    spec = load_manifest(path, allow_outside_files=True).manifest.voices["v"]
    assert spec.file == outside / "a.wav"


def test_symlink_inside_the_folder_is_refused_too(folder: Path) -> None:
    (folder / "samples" / "alias.wav").symlink_to(folder / "samples" / "a.wav")
    path = write(folder, "version: 1\nvoices:\n  v: {file: samples/alias.wav}\n")
    assert "goes through a symlink (samples/alias.wav)" in problems_of(path)[0]


def test_check_files_false_skips_the_disk_but_not_the_escape_rules(folder: Path) -> None:
    path = write(folder, "version: 1\nvoices:\n  v: {file: nowhere.wav, language: en}\n")
    spec = load_manifest(path, check_files=False).manifest.voices["v"]
    assert spec.file == folder / "nowhere.wav"
    assert (spec.file_sha256, spec.audio_format, spec.duration) == (None, None, None)
    path = write(folder, "version: 1\nvoices:\n  v: {file: ../x.wav}\n")
    assert "goes outside the manifest's folder" in problems_of(path, check_files=False)[0]


def test_allow_any_duration_turns_the_error_into_a_warning(folder: Path) -> None:
    audio_support.write(folder / "samples" / "short.wav", audio_support.speech(4.0))
    path = write(folder, "version: 1\nvoices:\n  v: {file: samples/short.wav, language: en}\n")
    assert problems_of(path) == [
        "voices.yaml:3:13: voices.v.file: samples/short.wav is 4.0 s long; the service wants "
        "5-15 s of clean speech (--allow-any-duration accepts it)"
    ]
    result = load_manifest(path, allow_any_duration=True)
    assert result.manifest.voices["v"].duration == pytest.approx(4.0)
    assert result.warnings[0] == (
        "voices.yaml:3:13: voices.v.file: samples/short.wav is 4.0 s long; the service wants "
        "5-15 s of clean speech"
    )
    # The quality checks still measure what is in it: under 5 s of speech is padding.
    assert result.warnings[1].startswith(
        "voices.yaml:3:13: voices.v.file: samples/short.wav: mostly padding: "
    )


def test_allow_any_duration_does_not_accept_too_little_speech(folder: Path) -> None:
    shutil.copy(AUDIO / "tone-2s.wav", folder / "samples" / "short.wav")
    path = write(folder, "version: 1\nvoices:\n  v: {file: samples/short.wav, language: en}\n")
    assert problems_of(path, allow_any_duration=True) == [
        "voices.yaml:3:13: voices.v.file: samples/short.wav: only 2.0 s of speech (needs 3 s); "
        "0.0 s of the 2.0 s file is silence (allowQuality: [speech] accepts it)"
    ]


def test_every_format_resolves(folder: Path) -> None:
    for name in ("tone-8s.m4a", "tone-9s.webm", "tone-9s-noduration.webm", "tone-6s.mp4"):
        shutil.copy(AUDIO / name, folder / "samples" / name)
    lines = "".join(
        f"  v{i}: {{file: samples/{n}, language: en}}\n"
        for i, n in enumerate(
            ("tone-8s.m4a", "tone-9s.webm", "tone-9s-noduration.webm", "tone-6s.mp4")
        )
    )
    voices = load_manifest(write(folder, "version: 1\nvoices:\n" + lines)).manifest.voices
    assert [v.audio_format for v in voices.values()] == ["mp4", "webm", "webm", "mp4"]
    assert [v.mime_type for v in voices.values()] == [
        "audio/mp4",
        "audio/webm",
        "audio/webm",
        "audio/mp4",
    ]


# ---------------------------------------------------------------- warnings


def test_same_display_name_twice_is_a_warning(folder: Path) -> None:
    path = write(
        folder,
        """
        version: 1
        defaults: {language: en}
        voices:
          a: {file: samples/a.wav, displayName: Narrator}
          b: {file: samples/b.mp3, displayName: Narrator}
          c: {file: samples/a.wav, displayName: a}
        """,
    )
    result = load_manifest(path)  # c's displayName is a's key, not a's displayName: fine
    assert len(result.manifest.voices) == 3
    assert result.warnings == [
        "voices.yaml:5:41: voices.b.displayName: displayName 'Narrator' is also the displayName "
        "of voices.a (line 4); the service allows it, but it is confusing",
    ]


def test_language_warnings(folder: Path) -> None:
    path = write(
        folder,
        """
        version: 1
        defaults: {language: xx}
        voices:
          a: {file: samples/a.wav}
          b: {file: samples/a.wav, language: en-US}
          c: {file: samples/a.wav, language: ja}
          d: {file: samples/a.wav, language: multi}
          e: {file: samples/a.wav, language: sw}
        """,
    )
    warnings = load_manifest(path).warnings
    known = " ".join(languages.CLONE_LANGUAGES)
    assert warnings == [
        "voices.yaml:2:22: defaults.language: language 'xx' is not known to be accepted for "
        f"lightning-v3.1 clones; the service may refuse it. Known: {known}",
        "voices.yaml:5:38: voices.b.language: language 'en-US' is not known to be accepted for "
        f"lightning-v3.1 clones (did you mean 'en'?); the service may refuse it. Known: {known}",
        "voices.yaml:6:38: voices.c.language: language 'ja' is not known to be accepted for "
        "lightning-v3.1 clones (Japanese is supported by lightning-v3.1-pro: set model: "
        f"lightning-v3.1-pro); the service may refuse it. Known: {known}",
        "voices.yaml:7:38: voices.d.language: language 'multi' on lightning-v3.1: dropped from "
        "the documentation as stale: it is not a cloning language; the service may refuse it "
        "or treat it differently",
        "voices.yaml:8:38: voices.e.language: language 'sw' is not known to be accepted for "
        f"lightning-v3.1 clones; the service may refuse it. Known: {known}",
    ]


def test_languages_single_source_of_truth() -> None:
    assert set(languages.LIGHTNING_V31_LANGUAGES) <= set(languages.SDK_LANGUAGES)
    assert {"auto", "en", "hi", "pl"} <= set(languages.CLONE_LANGUAGES)
    assert len(languages.LANGUAGES["lightning-v3.1"]) == 20 + 1
    assert len(languages.LANGUAGES["lightning-v3.1-pro"]) == 31 + 1
    v31, pro = languages.LANGUAGES["lightning-v3.1"], languages.LANGUAGES["lightning-v3.1-pro"]
    assert set(v31) < set(pro)
    for model in languages.CLONE_MODELS:
        for code in ("ar", "he", "multi"):
            if not languages.is_clone_language(code, model):
                assert code in languages.language_warning(code, model)
        assert "he" not in languages.accepted("lightning-v3.1-pro")
    assert all(languages.is_well_formed(c) for c in languages.KNOWN_LANGUAGES)
    for bad in ("EN", "english", "e", "en_US", "", "en-", "1en"):
        assert not languages.is_well_formed(bad)
    assert languages.language_warning("hi") is None
    assert languages.language_warning("English") is None  # malformed: an error, not a warning


# ---------------------------------------------------------------- messages and helpers


def test_display_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(Path("conf/voices.yaml")) == "conf/voices.yaml"
    assert display_path(tmp_path / "a" / "voices.yaml") == "a/voices.yaml"
    assert display_path(Path("/elsewhere/voices.yaml")) == "/elsewhere/voices.yaml"


def test_missing_manifest_is_one_line(folder: Path) -> None:
    assert problems_of(folder / "nope.yaml") == ["nope.yaml: the manifest does not exist"]
    assert problems_of(folder) == [f"{display_path(folder)}: is a directory, not a manifest file"]


def test_errors_carry_the_warnings_found(folder: Path) -> None:
    path = write(
        folder,
        "version: 1\nvoices:\n  a: {file: samples/a.wav, language: xx}\n  b: {file: x.wav}\n",
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.problems == ["voices.yaml:4:13: voices.b.file: x.wav does not exist"]
    assert "language 'xx'" in info.value.warnings[0]
    assert "voices.b: no language set" in info.value.warnings[1]


def test_alias_bomb_is_refused(folder: Path) -> None:
    lines = ["version: 1", "x-a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 8):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"x-{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    path = folder / "voices.yaml"
    path.write_text("\n".join(lines) + "\n")
    problems = problems_of(path)
    assert len(problems) == 1 and f"more than {MAX_NODES} values" in problems[0]


def test_recursive_alias_is_a_problem_not_a_hang() -> None:
    doc = load_yaml("a: &x [1, *x]\n")
    assert doc is not None
    assert [p.message for p in doc.problems] == ["a recursive alias (it contains itself)"]


# ---------------------------------------------------------------- the JSON Schema


def test_schema_is_generated_from_the_models_and_accepts_the_example() -> None:
    schema = ManifestDocument.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["version"]
    voice = schema["$defs"]["VoiceDocument"]
    assert voice["additionalProperties"] is False
    assert "displayName" in voice["properties"] and voice["required"] == ["file"]
    assert all(p.get("description") for p in voice["properties"].values())
    example = yaml.safe_load((ROOT / "voices.yaml.example").read_text())
    jsonschema.validate(example, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "voices": {"Bad": {"file": "x"}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "defaults": {"tags": ["voicectl-x"]}}, schema)


def test_file_resolution_does_not_depend_on_cwd(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(folder, "version: 1\nvoices:\n  v: {file: samples/a.wav, language: en}\n")
    monkeypatch.chdir(os.sep)
    m = load_manifest(path).manifest
    assert m.voices["v"].file == folder / "samples" / "a.wav"


def test_error_message_reads_well_when_it_propagates(folder: Path) -> None:
    path = write(folder, "version: 1\nstack: Bad\nvoices:\n  a: {file: n.wav}\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.problems == [
        "voices.yaml:2:8: stack: 'Bad' is not a valid name: use 1-63 characters from "
        "a-z 0-9 . _ -, starting with a letter or digit",
        "voices.yaml:4:13: voices.a.file: n.wav does not exist",
    ]
    assert info.value.message.splitlines() == [*info.value.problems, "2 problems in voices.yaml"]
