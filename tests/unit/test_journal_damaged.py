"""A journal line that is whole JSON but not what voicectl writes is refused, not replayed.

A crash can only cut the journal's last write short (no newline, or not JSON): that
line is dropped, as test_journal.py checks at every byte. A whole line of the wrong
shape or types was edited or damaged: trusting it would put a voiceId of 7 in the
lockfile (or stop every command with an internal error), dropping it could lose
what it recorded. So loading stops with ONE line naming the journal, the line and
what is wrong, and nothing is written: the lockfile and the journal stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import UserError
from reconciler.lockfile import LockEntry, Lockfile, PendingEntry, journal_path_for
from reconciler.lockfile.journal import JournalDamaged


def _journalled(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A lockfile and the journal a run left (killed before its fold): its lines."""
    path = tmp_path / "voices.lock.json"
    seed = Lockfile.load(path, stack="s")
    seed.record("a", LockEntry(voice_id="v_a", status="completed"))
    seed.fold()
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    lock.record("b", LockEntry(voice_id="v_b", status="completed"))
    lock.begin_replacement("v_a2", PendingEntry(name="a", kind="replace", replaces="v_a"))
    lock.set_organisation("org_1")
    lock.set_clone_limit(3)
    lock.close()
    jpath = journal_path_for(path)
    return path, jpath, jpath.read_text().splitlines()


def _write(jpath: Path, lines: list[str]) -> None:
    jpath.write_text("".join(line + "\n" for line in lines))


def test_the_real_journal_replays_every_kind_of_operation(tmp_path):
    path, _jpath, _lines = _journalled(tmp_path)
    lock = Lockfile.load(path)
    assert lock.recovered == 4
    assert {n: e.voice_id for n, e in lock.doc.voices.items()} == {"a": "v_a", "b": "v_b"}
    assert lock.doc.pending["v_a2"].replaces == "v_a"
    assert (lock.doc.organization_id, lock.doc.clone_limit) == ("org_1", 3)


STEP = 2  # the line of the first step (after the header)

DAMAGED_STEPS = [  # (the line, what the refusal says is wrong)
    ('{"ops":[["set","voices","b",{"voiceId":7}]]}', "voiceId: Input should be a valid string"),
    ('{"ops":[["set","voices","b",{"voiceId":"v_b","x":1}]]}', "x: Unexpected keyword argument"),
    ('{"ops":[["set","voices","b","v_b"]]}', "Input should be"),
    ('{"ops":[["bogus"]]}', 'unknown operation "bogus"'),
    ('{"ops":[[]]}', "not a list starting with the operation's kind"),
    ('{"ops":[5]}', "not a list starting with the operation's kind"),
    ('{"ops":[["del","voices"]]}', 'expected ["del", SECTION, KEY]'),
    ('{"ops":[["set","voices","b"]]}', 'expected ["set", SECTION, KEY, VALUE]'),
    ('{"ops":[["set","nope","b",{}]]}', 'unknown section "nope"'),
    ('{"ops":[["del","voices",5]]}', "the key is not text"),
    ('{"ops":[["stack",5]]}', 'expected ["stack", NAME]'),
    ('{"ops":[["meta","serial",9]]}', 'expected ["meta", FIELD, VALUE]'),
    ('{"ops":[["meta","clone_limit","3"]]}', "clone_limit must be int or null"),
    ('{"ops":[["meta","clone_limit",true]]}', "clone_limit must be int or null"),
    ('{"ops":[["meta","organization_id",1]]}', "organization_id must be str or null"),
    ('{"ops":5}', 'not a step (expected {"ops": [...]})'),
    ("[1,2]", 'not a step (expected {"ops": [...]})'),
    ("{}", 'not a step (expected {"ops": [...]})'),
]


def _refused(path: Path, jpath: Path, line: int, what: str) -> str:
    """Load ``path``: refused with one line naming the journal's ``line``; nothing written."""
    lockfile, journal = path.read_bytes(), jpath.read_bytes()
    with pytest.raises(JournalDamaged) as caught:
        Lockfile.load(path)
    message = caught.value.message
    assert isinstance(caught.value, UserError) and "\n" not in message
    assert message.startswith(f"{jpath}:{line}:1: damaged lockfile journal: ")
    assert what in message
    assert f"{path} itself is untouched" in message and "move it aside" in message
    assert path.read_bytes() == lockfile and jpath.read_bytes() == journal
    return message


@pytest.mark.parametrize(("line", "what"), DAMAGED_STEPS, ids=[w for _l, w in DAMAGED_STEPS])
def test_a_whole_step_of_the_wrong_shape_or_types_is_refused(tmp_path, line, what):
    path, jpath, lines = _journalled(tmp_path)
    _write(jpath, [lines[0], line, *lines[STEP:]])
    _refused(path, jpath, STEP, what)


def test_the_refusal_names_the_line_and_the_operation(tmp_path):
    """A damaged op after good ones, in a later step: that line, that op, nothing replayed."""
    path, jpath, lines = _journalled(tmp_path)
    bad = '{"ops":[["del","pending","v_x"],["set","pending","v_y",{"name":"a"}]]}'
    _write(jpath, [*lines, bad])
    message = _refused(path, jpath, len(lines) + 1, "operation 2 (")
    assert "kind: Field required" in message


def test_a_whole_bad_step_before_a_cut_one_is_still_refused(tmp_path):
    path, jpath, lines = _journalled(tmp_path)
    jpath.write_text(lines[0] + "\n" + '{"ops":[["bogus"]]}\n' + lines[2][:10])
    _refused(path, jpath, STEP, 'unknown operation "bogus"')


def test_a_step_cut_short_by_a_crash_is_still_dropped(tmp_path):
    """The one damage a crash makes: the last line without its newline (or not JSON)."""
    path, jpath, lines = _journalled(tmp_path)
    for tail in (lines[-1][:-3], '{"ops":[["set","voices","c",{"voiceId"'):
        jpath.write_text("".join(line + "\n" for line in lines[:-1]) + tail)
        lock = Lockfile.load(path)
        assert lock.recovered == len(lines) - 2 and lock.doc.clone_limit is None


DAMAGED_HEADERS = [
    ('{"journal":2,"lineage":"L","serial":1,"stack":"s"}', "journal version 2 (this voicectl"),
    ('{"journal":1,"lineage":7,"serial":1,"stack":"s"}', "the header's lineage is not text"),
    ('{"journal":1,"lineage":"L","serial":"1","stack":"s"}', "the header's serial is not a whole"),
    ('{"journal":1,"lineage":"L","serial":true,"stack":"s"}', "the header's serial is not a whole"),
    ('{"journal":1,"lineage":"L","serial":1,"stack":["s"]}', "the header's stack is not text"),
    ('{"ops":[]}', "the first line is not a journal header"),
    ("[]", "the first line is not a journal header"),
    ("not json", "the header is not JSON"),
]


@pytest.mark.parametrize(("header", "what"), DAMAGED_HEADERS, ids=[w for _h, w in DAMAGED_HEADERS])
def test_a_whole_header_that_is_not_one_is_refused(tmp_path, header, what):
    """A header is fsync'd before any step is written: a whole one is never a crash's cut
    (ignoring it as stale would have the next run delete the journal)."""
    path, jpath, lines = _journalled(tmp_path)
    lineage = json.loads(lines[0])["lineage"]
    _write(jpath, [header.replace('"L"', json.dumps(lineage)), *lines[1:]])
    _refused(path, jpath, 1, what)


def test_a_header_cut_short_is_still_nothing_journalled(tmp_path):
    path, jpath, lines = _journalled(tmp_path)
    jpath.write_text(lines[0][:-5])
    assert Lockfile.load(path).recovered == 0


def test_a_stale_journal_is_ignored_whatever_its_steps_say(tmp_path):
    """A journal of another lockfile state (already folded) is not replayed, so its
    steps are not read for damage either: as before, the next fold removes it."""
    path, jpath, lines = _journalled(tmp_path)
    header = json.loads(lines[0])
    header["serial"] += 5
    _write(jpath, [json.dumps(header), '{"ops":[["bogus"]]}'])
    lock = Lockfile.load(path)
    assert lock.recovered == 0 and set(lock.doc.voices) == {"a"}


DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's stack: json.loads recurses
HUGE = "9" * 5000  # more digits than Python converts to an int


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (DEEP, "not valid JSON: nested too deeply"),
        ('{"ops":[["meta","clone_limit",' + HUGE + "]]}", "not valid JSON: a number too large"),
    ],
    ids=["deep", "huge-number"],
)
def test_a_whole_step_past_the_json_parsers_limits_is_refused(tmp_path, line, what):
    """No crash cuts a line voicectl wrote into one nested 100,000 deep or holding a
    5000-digit number: damage, one line (not an internal error, not a torn tail)."""
    path, jpath, lines = _journalled(tmp_path)
    _write(jpath, [lines[0], line, *lines[STEP:]])
    _refused(path, jpath, STEP, what)


@pytest.mark.parametrize(
    ("header", "what"),
    [
        (DEEP, "the header is not valid JSON: nested too deeply"),
        ('{"journal":1,"lineage":"L","serial":' + HUGE + "}", "a number too large"),
    ],
    ids=["deep", "huge-number"],
)
def test_a_header_past_the_json_parsers_limits_is_refused(tmp_path, header, what):
    path, jpath, lines = _journalled(tmp_path)
    _write(jpath, [header, *lines[1:]])
    _refused(path, jpath, 1, what)


def test_a_file_where_the_journals_folder_should_be_is_named(tmp_path):
    """``.voicectl`` a file: one line naming it (not "cannot read the lockfile journal:
    Not a directory"), from each place that needs the folder: the journal read, the
    journal made, the run lock."""
    from reconciler.lockfile import RunLock
    from reconciler.lockfile.journal import Journal, LockfileWriteError

    path = tmp_path / "voices.lock.json"
    seed = Lockfile.load(path, stack="s")
    seed.record("a", LockEntry(voice_id="v_a", status="completed"))
    seed.fold()
    (tmp_path / ".voicectl").write_text("hi\n")
    expected = f"{tmp_path / '.voicectl'}: is a file, not voicectl's folder (move it aside)"
    with pytest.raises(UserError) as caught:
        Lockfile.load(path)
    assert caught.value.message == expected
    with pytest.raises(LockfileWriteError) as made:
        Journal.create(journal_path_for(path), lineage="L", serial=1, stack="s")
    assert made.value.message == expected
    with pytest.raises(UserError) as locked, RunLock(path):
        pass
    assert locked.value.message == expected
    assert (tmp_path / ".voicectl").read_text() == "hi\n"  # left as it was


def test_a_link_to_nothing_where_the_folder_should_be_is_named(tmp_path):
    path = tmp_path / "voices.lock.json"
    (tmp_path / ".voicectl").symlink_to(tmp_path / "gone")
    lock = Lockfile.load(path, stack="s")  # no journal can be there: nothing to replay
    with pytest.raises(UserError) as caught:
        lock.begin()
    assert caught.value.message == (
        f"{tmp_path / '.voicectl'}: is not a folder, so voicectl cannot keep its files there "
        "(move it aside)"
    )
