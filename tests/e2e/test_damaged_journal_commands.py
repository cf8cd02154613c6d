"""A damaged lockfile journal through the real CLI: every command that reads the
lockfile stops with one line naming the journal and its line, nothing sent, nothing
written; moved aside, the project works again.

The journal is a real one (the lockfile's own writer, as a run killed before its
fold leaves it), with one whole line then damaged: a voiceId of the wrong type.
"""

from __future__ import annotations

import json

import pytest

from reconciler.lockfile import LockEntry, Lockfile, journal_path_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def damaged(project):
    """An applied project whose journal's step line says ``"voiceId": 7``."""
    project.write({"a": {}, "b": {}})
    project.run("apply", "--auto-approve")
    lock = Lockfile.load(project.lockfile)
    lock.begin()
    entry = lock.doc.voices["a"]
    lock.record("a", LockEntry(voice_id=entry.voice_id, status="failed"))
    lock.close()  # killed before the fold: the journal stays
    jpath = journal_path_for(project.lockfile)
    header, step = jpath.read_text().splitlines()
    data = json.loads(step)
    data["ops"][0][3]["voiceId"] = 7
    jpath.write_text(f"{header}\n{json.dumps(data)}\n")
    return project, jpath


COMMANDS = [
    ["output"],
    ["plan"],
    ["apply", "--auto-approve"],
    ["refresh"],
    ["check"],
    ["samples"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[a[0] for a in COMMANDS])
def test_every_command_refuses_in_one_line_and_changes_nothing(damaged, args):
    project, jpath = damaged
    lockfile, journal, remote = project.lockfile.read_bytes(), jpath.read_bytes(), project.remote()
    stats = project.server.stats()
    r = project.run(*args, expect=1)
    (line,) = r.err.splitlines()
    assert line.startswith(f'Error: {jpath}:2:1: damaged lockfile journal: operation 1 (["set",')
    assert line.endswith(
        f"...): voiceId: Input should be a valid string; {project.lockfile} itself is "
        "untouched: check the journal, then move it aside and run `voicectl plan` (clones "
        "it recorded are found again by their ownership tags)"
    )
    assert project.server.stats() == stats  # not one request: the lockfile is read first
    assert project.lockfile.read_bytes() == lockfile and jpath.read_bytes() == journal
    assert project.remote() == remote


def test_json_output_places_the_problem_in_the_journal(damaged):
    project, jpath = damaged
    doc = json.loads(project.run("plan", "--format", "json", expect=1).out)
    (error,) = doc["errors"]
    assert (error["file"], error["line"], error["column"]) == (str(jpath), 2, 1)
    assert error["message"].startswith("damaged lockfile journal: operation 1 ")


def test_moved_aside_the_project_plans_again(damaged):
    project, jpath = damaged
    ids = project.ids()
    jpath.rename(jpath.with_name("journal.checked"))
    r = project.run("plan")
    assert "No changes" in r.out
    assert project.ids() == ids


def test_a_crashed_first_apply_is_read_from_its_journal_by_every_command(project):
    """The first apply was killed before it ever wrote voices.lock.json: its journal
    holds the voiceIds, and every command that reads the lockfile reads them."""
    project.write({"a": {}, "b": {}})
    project.run("apply", "--auto-approve")
    ids = project.ids()
    entries = Lockfile.load(project.lockfile).doc.voices
    project.lockfile.unlink()
    lock = Lockfile.load(project.lockfile)  # no file: the first run
    lock.begin()
    for name, entry in entries.items():
        lock.record(name, entry)
    lock.close()  # killed before the fold: only the journal holds them
    assert not project.lockfile.exists()
    out = project.run("output", "--format", "json").out
    assert json.loads(out) == ids
    assert "2 voices checked" in project.run("check").out
    assert project.run("samples").code == 0
    assert not project.lockfile.exists()  # the readers wrote nothing
    out = project.run("refresh").out
    assert "folded in the 2 steps a crashed run had journalled" in out, out
    assert project.ids() == ids  # refresh folded the journal into the file
