"""voicectl's own JSON files, as a user (or an editor) may leave them (audit B4, B8, B12).

* Past the JSON parser's limits (nested 100,000 deep: ``RecursionError``; a
  5000-digit number: ``ValueError``) the lockfile and a saved plan are one line
  naming the file, never an internal error; a cache is a miss; an ``--out`` file
  is "not a saved plan"; completion offers nothing.
* A UTF-8 byte-order mark (a Windows editor's) at the start of the lockfile or a
  saved plan is read past; the lockfile's next write leaves it out.
* A symlinked lockfile stays a link: the write goes to the file it points at.
* ``.voicectl`` a file: one line naming it, from plan and apply alike.

The commands run in-process against the embedded sandbox (``--sandbox``): no server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import run_main
from sandbox_support import write_wav

from reconciler import savedplan
from reconciler.cli.complete import lockfile_voice_names
from reconciler.errors import UserError
from reconciler.fsutil import atomic_write, probe_write
from reconciler.lockfile import LockEntry, Lockfile, parse
from reconciler.lockfile.journal import LockfileWriteError
from reconciler.outputs import check_output

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def here(tmp_path: Path, monkeypatch) -> Path:
    """A project with one voice (the current folder: ``show`` reads ./voices.yaml)."""
    monkeypatch.chdir(tmp_path)
    write_wav(tmp_path / "a.wav", seconds=6)
    (tmp_path / "voices.yaml").write_text(
        "version: 1\nstack: audit\nvoices:\n  alpha: {file: a.wav, language: en}\n"
    )
    return tmp_path


def vc(capsys, here: Path, *args: str, code: int = 0) -> str:
    """``voicectl --sandbox ARGS`` in ``here``: its stderr, after checking the code."""
    assert Path.cwd() == here
    r = run_main(capsys, "--sandbox", *args)
    assert r.code == code, r.text
    return r.err


def only_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def applied(here: Path, capsys) -> Path:
    vc(capsys, here, "apply", "--auto-approve")
    return here


# ----------------------------------------------------------------- B4: the lockfile


def _with_serial(text: str, serial: str) -> str:
    doc = json.loads(text)
    old = f'"serial": {doc["serial"]}'
    assert old in text
    return text.replace(old, f'"serial": {serial}')


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda text: '{"version": 1, "voices": ' + DEEP + "}", "nested too deeply"),
        (lambda text: text[:-2] + ', "x-deep": ' + DEEP + "}\n", "nested too deeply"),
        (lambda text: _with_serial(text, HUGE), "a number too large, over 4300 digits"),
        (lambda text: '{"version": 1, "voices": ' + HUGE + "}", "a number too large"),
    ],
    ids=["deep", "deep-beside-a-good-document", "huge-serial", "huge-number"],
)
def test_a_lockfile_past_the_json_parsers_limits_is_one_line(applied, capsys, edit, reason):
    """The fast path (pydantic read it: a 5000-digit serial) and the step-by-step one."""
    lockfile = applied / "voices.lock.json"
    lockfile.write_text(edit(lockfile.read_text()))
    before = lockfile.read_bytes()
    with pytest.raises(UserError) as caught:
        parse(lockfile.read_text(), source="voices.lock.json")
    assert caught.value.message.startswith(f"voices.lock.json: not valid JSON: {reason}")
    for command in (["plan"], ["apply", "--auto-approve"], ["output"]):
        line = only_error(vc(capsys, applied, *command, code=1))
        assert line.startswith(f"Error: voices.lock.json: not valid JSON: {reason}"), line
    assert lockfile.read_bytes() == before


# ----------------------------------------------------------------- B4: saved plans


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (DEEP, "nested too deeply"),
        ('{"kind": "voicectl-saved-plan", "formatVersion": ' + HUGE + "}", "a number too large"),
    ],
    ids=["deep", "huge-number"],
)
def test_a_saved_plan_past_the_json_parsers_limits_is_one_line(applied, capsys, text, reason):
    plan = applied / "plan.json"
    plan.write_text(text)
    with pytest.raises(UserError) as caught:
        savedplan.read(plan)
    assert caught.value.message.startswith(
        f"{plan}: not a voicectl saved plan (invalid JSON: {reason}"
    )
    for command in (["show", str(plan)], ["apply", str(plan)]):
        line = only_error(vc(capsys, applied, *command, code=1))
        assert line.startswith(f"Error: {plan}: not a voicectl saved plan (invalid JSON: {reason}")
    r = run_main(capsys, "--sandbox", "show", str(plan), "--format", "json")
    assert r.code == 1 and json.loads(r.out)["errors"], r.text  # still a document
    # --out over it: not a saved plan, so not overwritten (and said in one line)
    line = only_error(vc(capsys, applied, "plan", "--out", str(plan), code=1))
    assert line == (
        f"Error: --out {plan}: the file exists and is not a saved plan, so it is not "
        "overwritten (remove it, or choose another path)"
    )
    assert plan.read_text() == text


def test_check_output_takes_a_file_past_the_parsers_limits_as_not_ours(tmp_path):
    out = tmp_path / "map.json"
    out.write_text(DEEP)
    with pytest.raises(UserError) as caught:
        check_output("--map-out", out, inputs={}, ours=lambda d: isinstance(d, list), what="a map")
    assert "the file exists and is not a map" in caught.value.message


# ----------------------------------------------------------------- B4: caches, completion


@pytest.mark.parametrize("text", ['{"entries": ' + DEEP + "}", '{"version": ' + HUGE + "}"])
def test_caches_past_the_parsers_limits_are_misses(applied, capsys, text):
    (applied / ".voicectl" / "sample-hashes.json").write_text(text)
    (applied / ".voicectl" / "sample-analysis.json").write_text(text)
    r = run_main(capsys, "validate")
    assert r.code == 0 and "is valid: 1 voice" in r.out, r.text
    assert "No changes" in run_main(capsys, "--sandbox", "plan").out


@pytest.mark.parametrize("text", ['{"voices": ' + DEEP + "}", '{"voices": {"a": ' + HUGE + "}}"])
def test_completion_offers_nothing_from_a_lockfile_past_the_limits(tmp_path, text):
    lockfile = tmp_path / "voices.lock.json"
    lockfile.write_text(text)
    assert lockfile_voice_names(lockfile) == []  # nothing offered, nothing raised


# ----------------------------------------------------------------- B8: a byte-order mark


def test_a_lockfile_with_a_bom_is_read_and_written_back_without_it(applied, capsys):
    lockfile = applied / "voices.lock.json"
    lockfile.write_bytes(BOM + lockfile.read_bytes())
    assert "No changes" in run_main(capsys, "--sandbox", "plan").out
    r = run_main(capsys, "output", "--format", "json")
    assert r.code == 0 and "alpha" in json.loads(r.out), r.text
    old = json.loads(lockfile.read_bytes()[3:])["voices"]["alpha"]["voiceId"]
    vc(capsys, applied, "apply", "--auto-approve", "--replace", "alpha")
    raw = lockfile.read_bytes()
    assert raw.startswith(b"{\n")  # rewritten without the BOM
    assert json.loads(raw)["voices"]["alpha"]["voiceId"] != old


def test_a_lockfile_with_a_bom_and_a_bad_byte_names_the_place_after_the_bom(tmp_path):
    path = tmp_path / "voices.lock.json"
    path.write_bytes(BOM + b'{"version": 1,\n "x": "\xff"}')
    with pytest.raises(UserError) as caught:
        Lockfile.load(path)
    assert caught.value.message == f"{path}:2:8: the lockfile is not UTF-8 text (byte 0xff)"


def test_a_saved_plan_with_a_bom_is_shown_and_applied(applied, capsys):
    plan = applied / "plan.json"
    vc(capsys, applied, "plan", "--out", str(plan), "--replace", "alpha")
    plan.write_bytes(BOM + plan.read_bytes())
    assert savedplan.read(plan).kind == "voicectl-saved-plan"
    r = run_main(capsys, "--sandbox", "show", str(plan))
    assert r.code == 0 and "alpha" in r.out, r.text
    vc(capsys, applied, "apply", str(plan))


# ----------------------------------------------------------------- B12: a symlinked lockfile


def test_apply_writes_through_a_symlinked_lockfile(applied, capsys):
    lockfile = applied / "voices.lock.json"
    shared = applied / "shared"
    shared.mkdir()
    target = shared / "real.lock.json"
    os.replace(lockfile, target)
    link = os.path.join("shared", "real.lock.json")
    lockfile.symlink_to(link)  # relative, as in a repository
    old = json.loads(target.read_text())["voices"]["alpha"]["voiceId"]
    vc(capsys, applied, "apply", "--auto-approve", "--replace", "alpha")
    assert lockfile.is_symlink() and os.readlink(lockfile) == link
    new = json.loads(target.read_text())["voices"]["alpha"]["voiceId"]
    assert new != old
    # no temp file left; the journal and run lock are beside the file written
    assert sorted(p.name for p in shared.iterdir()) == [".voicectl", "real.lock.json"]
    assert not [p for p in applied.iterdir() if p.name.startswith(".voices.lock.json.")]
    assert "No changes" in run_main(capsys, "--sandbox", "plan").out


def test_a_lockfile_link_through_a_chain_and_to_nothing_yet(tmp_path):
    real = tmp_path / "store" / "real.json"
    real.parent.mkdir()
    middle = tmp_path / "middle.json"
    middle.symlink_to(real)  # nothing there yet
    link = tmp_path / "voices.lock.json"
    link.symlink_to(middle.name)
    lock = Lockfile.load(link, stack="s")
    assert not lock.exists
    lock.begin()
    lock.record("a", LockEntry(voice_id="v_a", status="completed"))
    assert lock.fold() is True
    assert link.is_symlink() and middle.is_symlink()
    assert json.loads(real.read_text())["voices"]["a"]["voiceId"] == "v_a"
    again = Lockfile.load(link)
    assert again.exists and again.doc.voices["a"].voice_id == "v_a"


def test_a_lockfile_link_into_a_missing_folder_is_refused_before_anything(tmp_path):
    link = tmp_path / "voices.lock.json"
    link.symlink_to(tmp_path / "gone" / "real.json")
    lock = Lockfile.load(link, stack="s")
    with pytest.raises(LockfileWriteError) as caught:
        lock.begin()
    assert caught.value.message.startswith(f"{link}: cannot write the lockfile: ")
    assert not (tmp_path / "gone").exists()  # the link's target folder is not made


def test_atomic_write_and_probe_write_follow_a_link(tmp_path):
    (tmp_path / "d").mkdir()
    link = tmp_path / "link.txt"
    link.symlink_to(Path("d") / "t.txt")
    probe_write(link)
    assert list((tmp_path / "d").iterdir()) == []  # probed there, nothing left
    atomic_write(link, "one\n")
    atomic_write(link, "two\n")
    assert link.is_symlink() and (tmp_path / "d" / "t.txt").read_text() == "two\n"


def test_out_through_a_link_to_the_lockfile_is_refused_even_before_it_exists(tmp_path):
    """A write goes to a link's target now: a link to the (not yet written) lockfile is
    the lockfile."""
    lockfile = tmp_path / "voices.lock.json"
    out = tmp_path / "plan.json"
    out.symlink_to(lockfile.name)
    with pytest.raises(UserError) as caught:
        check_output("--out", out, inputs={"the lockfile": lockfile}, ours=bool, what="a plan")
    assert "that is the lockfile" in caught.value.message


# ----------------------------------------------------------------- B13: .voicectl a file


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["output"]])
def test_a_file_named_voicectl_is_one_line_naming_it(here, capsys, command):
    if command[0] == "output":
        vc(capsys, here, "apply", "--auto-approve")
        os.replace(here / ".voicectl", here / "kept")
    (here / ".voicectl").write_text("hi\n")
    line = only_error(vc(capsys, here, *command, code=1))
    assert line == "Error: .voicectl: is a file, not voicectl's folder (move it aside)"
    assert (here / ".voicectl").read_text() == "hi\n"
    r = run_main(capsys, "validate")  # its caches: misses
    assert r.code == 0, r.text
