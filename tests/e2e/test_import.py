"""`voicectl import`: names, stanzas, the comment-keeping manifest edit, and the CLI
end to end against `voicectl sandbox serve` (an organisation seeded with legacy
`add_voice` clones and dashboard-style clones made without tags)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_support import Project
from sandbox_support import ADD_VOICE, CLONES, write_wav

from reconciler.api.models import Clone
from reconciler.engine.adoption import (
    Adoption,
    Target,
    add_voices,
    build_stanza,
    choose,
    plan_adoptions,
    slugify,
    unique_name,
)
from reconciler.errors import UserError
from reconciler.lockfile import LockDocument
from reconciler.manifest import DefaultsDocument as Defaults
from reconciler.manifest import VoiceDocument
from reconciler.manifest.spec import declared
from reconciler.plan import metadata_changes

# --------------------------------------------------------------------------- helpers


def legacy(project: Project, display_name: str, sample: str) -> str:
    """A clone made the deprecated way (lightning-large only); its voiceId."""
    with project.server.client() as http, open(project.root / sample, "rb") as fh:
        r = http.post(
            ADD_VOICE,
            data={"displayName": display_name},
            files={"file": ("s.wav", fh, "audio/wav")},
        )
    r.raise_for_status()
    return r.json()["data"]["voiceId"]


def dashboard(project: Project, display_name: str, sample: str, **fields: str) -> str:
    """A clone made by hand with the current endpoint, without ownership tags."""
    with project.server.client() as http, open(project.root / sample, "rb") as fh:
        r = http.post(
            CLONES,
            data={"displayName": display_name, **fields},
            files={"file": ("s.wav", fh, "audio/wav")},
        )
    r.raise_for_status()
    return r.json()["data"]["voiceId"]


def clone(**fields) -> Clone:
    base = {"voiceId": "voice_x", "displayName": "X", "status": "completed"}
    base.update(fields)
    return Clone.from_api(base)


def adoption(name: str, c: Clone, defaults: Defaults = Defaults(), file: str = "s/a.wav"):
    stanza, notes, problems = build_stanza(c, name, file, defaults)
    assert not problems
    return Adoption(name, c, stanza, sample=Path(file), file_sha256=None, notes=notes)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Narrator", "narrator"),
        ("Support Bot (EN) – v2", "support-bot-en-v2"),
        ("  --Crème brûlée__  ", "creme-brulee"),
        ("日本語", ""),
        ("a" * 80, "a" * 63),
        ("v1.2_final", "v1.2_final"),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_unique_name_suffixes_and_stays_short():
    assert unique_name("narrator", set()) == "narrator"
    assert unique_name("narrator", {"narrator"}) == "narrator-2"
    assert unique_name("narrator", {"narrator", "narrator-2"}) == "narrator-3"
    long = "a" * 63
    assert unique_name(long, {long}) == "a" * 61 + "-2"


# --------------------------------------------------------------------------- stanzas


def test_a_sample_named_after_a_shared_display_name_is_reported_not_guessed(tmp_path):
    """Two clones whose displayNames differ only in case: the file named after that
    displayName could be either's, so neither gets it, and both say why."""
    (tmp_path / "samples").mkdir()
    write_wav(tmp_path / "samples" / "Alice Smith.wav", seconds=6.0)
    write_wav(tmp_path / "samples" / "voice_b.wav", seconds=6.0)
    write_wav(tmp_path / "samples" / "short.wav", seconds=2.0)
    target = Target(
        tmp_path / "voices.yaml", tmp_path, False, None, False, None, set(), (), Defaults()
    )
    clones = [
        clone(voiceId="voice_a", displayName="Alice Smith", modelIds=["lightning-v3.1"]),
        clone(voiceId="voice_b", displayName="alice smith", modelIds=["lightning-v3.1"]),
        clone(voiceId="voice_c", displayName="Short", modelIds=["lightning-v3.1"]),
    ]
    adoptions, problems = plan_adoptions(
        clones, LockDocument(lineage="x"), target, samples_dir=tmp_path / "samples"
    )
    assert problems == []
    first, second, third = adoptions
    assert first.sample is None and first.stanza["file"] == "FILL-ME-IN"
    assert first.notes == [
        "Alice Smith.wav is named after a displayName several clones share "
        "(letter case aside); `file:` left to fill in"
    ]
    # the voiceId's own file is no guess: it is used, and nothing is said
    assert second.sample == tmp_path / "samples" / "voice_b.wav" and second.notes == []
    # a sample that fails the checks would fail every plan as file:; it is a note instead
    assert third.sample is None and third.stanza["file"] == "FILL-ME-IN"
    [note] = third.notes
    assert note.startswith("short.wav is 2.0 s long") and note.endswith("`file:` left to fill in")


def test_a_sample_named_in_nfd_form_is_found_for_an_nfc_display_name(tmp_path):
    """macOS writes "é" in file names as "e" + a combining accent; the clone's name says
    "é": the same name, so the file is found."""
    (tmp_path / "samples").mkdir()
    write_wav(tmp_path / "samples" / "Cafe\u0301.wav", seconds=6.0)
    target = Target(
        tmp_path / "voices.yaml", tmp_path, False, None, False, None, set(), (), Defaults()
    )
    made = clone(voiceId="voice_a", displayName="Caf\u00e9", modelIds=["lightning-v3.1"])
    [found], problems = plan_adoptions(
        [made], LockDocument(lineage="x"), target, samples_dir=tmp_path / "samples"
    )
    assert problems == [] and found.sample == tmp_path / "samples" / "Cafe\u0301.wav"


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nvoices:\n  a: {file: a.wav}\t# a tab before the comment\n",
        "version: 1\nvoices:\n  a: {file: a.wav,\tlanguage: en}\n",
    ],
)
def test_add_voices_reads_tabs_the_manifest_loader_accepts(text):
    """validate accepts these (libyaml); the pure-Python reader does not: import reads
    the manifest as validate does, so it does not end in an internal error."""
    a = adoption("b", clone(voiceId="voice_9", displayName="b", modelIds=["lightning-v3.1"]))
    out = add_voices(text, [a])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert list(yaml.load(out, Loader=loader)["voices"]) == ["a", "b"]


def test_a_released_clone_is_skipped_as_released_not_as_one_plan_adopts():
    from reconciler.lockfile import ReleasedEntry
    from reconciler.ownership import marker_tags

    tags = list(marker_tags("e2e", "bravo", "0" * 12))
    released = clone(voiceId="voice_r", displayName="bravo", tags=tags)
    lock = LockDocument(lineage="x", stack="e2e")
    lock.released["voice_r"] = ReleasedEntry(name="bravo")
    target = Target(
        Path("voices.yaml"), Path("."), False, None, False, "e2e", set(), (), Defaults()
    )
    chosen, [skipped] = choose([released], lock, target)
    assert chosen == [] and skipped.reason == (
        "released by removed: [bravo]; a released clone is never managed again (delete it "
        "in the dashboard if it is unwanted)"
    )


def test_current_clone_stanza_is_exact_even_against_defaults():
    c = clone(
        modelIds=["lightning-v3.1"],
        language=None,
        description="",
        accent="indian",
        tags=["promo", "team-a", "voicectl-stack:other"],
    )
    defaults = Defaults(language="en", description="default text", tags=["team-a"])
    stanza, notes, problems = build_stanza(c, "x", "s/x.wav", defaults)
    assert problems == [] and notes == []
    assert stanza == {
        "file": "s/x.wav",
        "displayName": "X",
        "language": None,  # overrides defaults.language: the clone has none
        "description": None,
        "accent": "indian",
        "tags": ["promo"],  # team-a comes from defaults; ownership tags never
    }
    resolved = declared("x", VoiceDocument.model_validate(stanza), defaults)
    assert metadata_changes(c, resolved) == []


def test_defaults_tags_the_clone_lacks_are_a_note_not_a_silent_replace():
    c = clone(modelIds=["lightning-v3.1"], tags=["promo"])
    _, notes, problems = build_stanza(c, "x", "f.wav", Defaults(tags=["team-a"]))
    assert problems == []
    assert notes == [
        "the manifest's defaults change its tags; the next apply would re-clone it (a new voiceId)"
    ]


def test_legacy_clone_leaves_unreported_fields_to_the_defaults():
    c = clone(modelIds=["lightning-large"])
    stanza, _, _ = build_stanza(c, "x", "f.wav", Defaults(language="en", accent="general"))
    assert stanza == {"file": "f.wav", "displayName": "X"}


def test_unwritable_current_clone_is_a_problem_but_a_legacy_one_is_tidied():
    bad = {"displayName": "Evil\x1b[2J name", "tags": ["ok", "voicectl-x"]}
    _, _, problems = build_stanza(clone(modelIds=["lightning-v3.1"], **bad), "x", "f", Defaults())
    assert problems and "cannot describe this clone exactly" in problems[0]
    stanza, notes, problems = build_stanza(
        clone(modelIds=["lightning-large"], **bad), "x", "f", Defaults()
    )
    assert problems == []
    assert stanza["displayName"] == "Evil[2J name"
    assert any("tidied" in n for n in notes)


# --------------------------------------------------------------------------- manifest edit

HAND_WRITTEN = """\
# Voices of the support team -- keep this header!
version: 1
stack: e2e   # the production stack

defaults:
  language: en

voices:
  # our main narrator
  narrator:
    file: samples/narrator.wav   # recorded 2024
    tags:
      - warm   # important

# Clones we never touch:
ignore:
  - "Test *"
"""


def test_add_voices_keeps_every_byte_of_a_hand_written_manifest():
    a = adoption("yes", clone(voiceId="voice_1", displayName="yes", modelIds=["lightning-v3.1"]))
    out = add_voices(HAND_WRITTEN, [a])
    sep = "\n# Clones we never touch:"
    head, _, tail = HAND_WRITTEN.partition(sep)
    added = (
        "  # imported from voice_1 (lightning-v3.1)\n"
        "  'yes':\n"  # quoted: YAML 1.1 would read yes as true
        "    file: s/a.wav\n"
        "    displayName: 'yes'\n"
    )
    assert out == head + added + sep + tail  # inserted after the last voice, all else kept
    data = yaml.safe_load(out)
    assert list(data["voices"]) == ["narrator", "yes"]
    assert data["ignore"] == ["Test *"]


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nstack: s\n",  # no voices
        "version: 1\nstack: s",  # no trailing newline
        "version: 1\nvoices:\nstack: s\n",  # empty voices
        "version: 1\nvoices: ~  # none yet\nstack: s\n",
        "version: 1\nvoices: {}\n",
        "version: 1\nvoices: {a: {file: a.wav}}\n",  # flow style: the ruamel round trip
        "version: 1\nvoices:\n    a:\n        file: a.wav\n",  # 4-space indent
        "version: 1\nx-b: &b\n  file: b.wav\nvoices:\n  a: *b\n  c:\n    <<: *b\n",
        "version: 1\nvoices:\n  a:\n    file: a.wav\n    description: |+\n      keep\n\n\n# c\n",
        "\ufeffversion: 1\r\nvoices:\r\n  a:\r\n    file: a.wav\r\n".lstrip("\ufeff"),
    ],
)
def test_add_voices_gives_exactly_the_old_document_plus_the_new_voices(text):
    c = clone(
        voiceId="voice_9",
        displayName="New: one #1",
        modelIds=["lightning-v3.1"],
        description="two\nlines",
        tags=["on", "x]y"],
    )
    a = adoption("new-one", c)
    out = add_voices(text, [a])
    before = yaml.safe_load(text) or {}
    after = yaml.safe_load(out)
    voices = dict(before.get("voices") or {})
    voices["new-one"] = a.stanza
    assert after == {**before, "voices": voices}
    if "\r\n" in text:
        assert "\n" not in out.replace("\r\n", "")


def test_add_voices_refuses_rather_than_change_meaning():
    with pytest.raises(UserError, match="not a mapping"):
        add_voices("[1, 2]\n", [adoption("a", clone())])


# --------------------------------------------------------------------------- end to end


def seed(project: Project) -> dict[str, str]:
    """Two legacy clones and two dashboard clones; displayName -> voiceId."""
    ids = {}
    project.sample("narrator")
    write_wav(project.root / "samples" / "Support Bot.wav", seconds=6, freq=330, rate=8000)
    project.sample("other")
    ids["Narrator"] = legacy(project, "Narrator", "samples/narrator.wav")
    ids["Support Bot"] = legacy(project, "Support Bot", "samples/Support Bot.wav")
    ids["Promo"] = dashboard(
        project, "Promo", "samples/other.wav", language="en", tags="promo, q3", accent="general"
    )
    ids["Untitled"] = dashboard(project, "Untitled", "samples/other.wav")
    return ids


@pytest.mark.e2e
def test_import_with_samples_then_plan_replaces_only_legacy(project):
    ids = seed(project)
    project.server.reset_stats()
    samples = str(project.root / "samples")
    r = project.run("import", "--samples", samples)
    assert "Imported 4 clones into" in r.out
    assert "nothing on the service was changed" in r.out
    stats = project.server.stats()
    assert stats["clones_created"] == 0 and stats["clones_deleted"] == 0
    manifest = yaml.safe_load(project.manifest.read_text())
    # import writes an explicit stack of this project's own, the one the lockfile records
    assert manifest["version"] == 1 and manifest["stack"].startswith("project-")
    assert manifest["stack"] == project.lock()["stack"]
    assert manifest["voices"]["narrator"] == {
        "file": "samples/narrator.wav",
        "displayName": "Narrator",
    }
    assert manifest["voices"]["support-bot"]["file"] == "samples/Support Bot.wav"  # by displayName
    assert manifest["voices"]["promo"] == {
        "file": "FILL-ME-IN",
        "displayName": "Promo",
        "language": "en",
        "accent": "general",
        "tags": ["promo", "q3"],
    }
    lock = project.lock()
    assert {n: e["voiceId"] for n, e in lock["voices"].items()} == {
        "narrator": ids["Narrator"],
        "support-bot": ids["Support Bot"],
        "promo": ids["Promo"],
        "untitled": ids["Untitled"],
    }
    narrator = lock["voices"]["narrator"]
    assert narrator["modelIds"] == ["lightning-large"] and narrator["specDigest"] is None
    assert narrator["fileSha256"] and lock["voices"]["promo"]["fileSha256"] is None
    assert narrator["status"] == "completed" and narrator["createdAt"]

    bad = project.run("validate", expect=1)
    assert "voices.promo.file: FILL-ME-IN is a placeholder left by `voicectl import`" in bad.err
    assert "voices.untitled.file: FILL-ME-IN" in bad.err
    text = project.manifest.read_text().replace("FILL-ME-IN", "samples/other.wav")
    project.manifest.write_text(text)
    plan = json.loads(project.run("plan", "--format", "json").out)
    kinds = {a["name"]: a["action"] for a in plan["actions"]}
    assert kinds == {
        "narrator": "replace",
        "support-bot": "replace",
        "promo": "noop",
        "untitled": "noop",
    }
    assert all(
        "legacy clone" in a["reasons"][0] for a in plan["actions"] if a["action"] == "replace"
    )
    # importing again finds nothing new
    again = project.run("import", "--samples", samples)
    assert "Nothing to import" in again.out


@pytest.mark.e2e
def test_import_without_samples_writes_placeholders_and_dry_run_writes_nothing(project):
    seed(project)
    dry = project.run("import", "--dry-run", "--select", "voice_*", "--select", "Narr*")
    assert not project.manifest.exists() and not project.lockfile.exists()
    printed = yaml.safe_load(dry.out)
    assert list(printed["voices"]) == ["narrator", "support-bot", "promo", "untitled"]
    assert all(v["file"] == "FILL-ME-IN" for v in printed["voices"].values())
    assert "nothing was written (--dry-run)" in dry.err

    r = project.run("import", "--select", "Narr*", "--select", "Promo")
    assert "Imported 2 clones" in r.out
    assert "2 voices need their original samples: set `file:`" in r.out
    assert set(project.ids()) == {"narrator", "promo"}
    assert project.manifest.read_text().count("FILL-ME-IN  # the sample audio") == 2
    none = project.run("import", "--select", "Nope*", expect=1)
    assert "--select Nope*: no importable clone matches" in none.err


@pytest.mark.e2e
def test_import_keeps_a_hand_written_manifests_comments(project):
    seed(project)
    project.sample("narrator-own")
    text = HAND_WRITTEN.replace("samples/narrator.wav", "samples/narrator-own.wav")
    project.manifest.write_text(text)
    # 'narrator' is declared but not recorded: the Narrator clone is left out
    r = project.run("import", "--samples", str(project.root / "samples"), "--exclude", "Narrator")
    assert "Imported 3 clones" in r.out
    out = project.manifest.read_text()
    for line in text.splitlines():
        assert line in out.splitlines()
    assert out.startswith("# Voices of the support team -- keep this header!\n")
    data = yaml.safe_load(out)
    assert list(data["voices"]) == ["narrator", "support-bot", "promo", "untitled"]
    assert project.lock()["stack"] == "e2e"


@pytest.mark.e2e
def test_import_refuses_a_name_declared_but_not_recorded(project):
    seed(project)
    project.write({"narrator": {}}, stack="default")
    before = project.manifest.read_bytes()
    r = project.run("import", expect=1)
    assert "would be imported as 'narrator', which voices.yaml already declares" in r.err
    assert "nothing was imported" in r.err
    assert project.manifest.read_bytes() == before and not project.lockfile.exists()
    ok = project.run("import", "--exclude", "Narrator")
    assert "Imported 3 clones" in ok.out


@pytest.mark.e2e
def test_import_never_names_a_voice_after_a_removed_or_moved_away_key(project):
    """removed: and moved[].from names cannot be declared again (validation refuses
    it), so import gives those clones the next free name and every later plan runs."""
    project.sample("a")
    project.write(
        {"alpha-new": {"file": "samples/a.wav"}},
        moved=[{"from": "alpha", "to": "alpha-new"}],
        removed=["bravo"],
    )
    originals = project.root / "originals"
    for name in ("Bravo", "alpha"):  # found by displayName
        write_wav(originals / f"{name}.wav", seconds=6.0, freq=300 + len(name), rate=16000)
        dashboard(project, name, f"originals/{name}.wav", language="en")
    project.run("import", "--samples", str(originals))
    voices = yaml.safe_load(project.manifest.read_text())["voices"]
    assert set(voices) == {"alpha-new", "bravo-2", "alpha-2"}
    project.run("validate")
    project.run("plan", "--detailed-exitcode", expect=2)  # alpha-new is still to make


@pytest.mark.e2e
def test_import_skips_owned_ignored_and_busy_clones_and_dedupes_names(project):
    project.sample("a")
    dashboard(project, "Same", "samples/a.wav")
    dashboard(project, "Same", "samples/a.wav")
    dashboard(project, "Other stack", "samples/a.wav", tags="voicectl-stack:prod, voicectl-name:x")
    dashboard(project, "Test one", "samples/a.wav")
    project.manifest.write_text("version: 1\nstack: e2e\nignore: ['Test *']\n")
    project.server.config(processing_seconds=3600)
    dashboard(project, "Busy", "samples/a.wav")
    r = project.run("import")
    assert "Skipped" in r.err and "owned by stack 'prod'" in r.err
    assert "matches the manifest's ignore list" in r.err
    assert "still processing" in r.err
    assert set(yaml.safe_load(project.manifest.read_text())["voices"]) == {"same", "same-2"}
    assert project.run("validate", expect=1).err.count("FILL-ME-IN is a placeholder") == 2


@pytest.mark.e2e
def test_import_bad_inputs_are_one_line_errors(project):
    seed(project)
    r = project.run("import", "--samples", "nowhere", expect=1)
    assert r.err.strip() == "Error: --samples nowhere: no such folder"
    r = project.run("import", "--samples", "/", expect=1)
    assert "outside the manifest's folder" in r.err
    project.manifest.write_text("version: 2\n")
    r = project.run("import", expect=1)
    assert "unsupported version 2" in r.err
    project.manifest.write_text("version: 1\nstack: s\n")
    r = project.run("import", "--stack", "other", expect=1)
    assert "--stack other: " in r.err and "already says stack 's'" in r.err
    project.manifest.unlink()
    r = project.run("import", "--stack", "Bad Stack", expect=1)
    assert "--stack 'Bad Stack'" in r.err


@pytest.mark.e2e
def test_control_characters_in_a_current_clones_name_refuse_the_import(project):
    project.sample("a")
    dashboard(project, "Evil\x1b[2J name", "samples/a.wav")
    r = project.run("import", expect=1)
    assert "cannot describe this clone exactly" in r.err
    assert "\x1b" not in r.err
    assert not project.manifest.exists()
    project.run("import", "--exclude", "Evil*")


@pytest.mark.e2e
def test_import_keeps_a_bom_and_crlf_line_ends(project):
    project.sample("alpha")
    dashboard(project, "Alpha", "samples/alpha.wav", language="en")
    original = "version: 1\r\nstack: e2e  # windows\r\nvoices: {}\r\n"
    project.manifest.write_bytes(b"\xef\xbb\xbf" + original.encode())
    project.run("import", "--samples", str(project.root / "samples"))
    raw = project.manifest.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfversion: 1\r\nstack: e2e  # windows\r\nvoices:")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert "validate" not in project.run("validate").err
    assert project.run("plan", "--detailed-exitcode").code == 0  # the imported clone is a noop
