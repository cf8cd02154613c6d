"""The lockfile: deterministic text, atomic no-op-skipping writes, serial, run lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from reconciler.errors import UserError
from reconciler.lockfile import LockEntry, Lockfile, RunLock, journal_path_for, lock_path_for


def test_missing_file_is_a_new_document(tmp_path):
    lock = Lockfile.load(tmp_path / "voices.lock.json", stack="bots")
    assert not lock.exists
    assert lock.doc.serial == 0 and lock.doc.stack == "bots"
    assert len(lock.doc.lineage) == 36


def test_save_is_deterministic_and_skips_no_op_writes(tmp_path):
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="bots")
    lock.record("b", LockEntry(voice_id="voice_b", status="completed"))
    lock.record("a", LockEntry(voice_id="voice_a", model_ids=["lightning-v3.1"]))
    assert lock.save() is True
    text = path.read_text()
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["voices"]) == ["a", "b"]
    assert data["serial"] == 1
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    mtime = path.stat().st_mtime_ns

    again = Lockfile.load(path)
    again.record("a", LockEntry(voice_id="voice_a", model_ids=["lightning-v3.1"]))
    assert again.save() is False  # same content: no write, no serial bump
    assert path.read_text() == text and path.stat().st_mtime_ns == mtime

    again.record("c", LockEntry(voice_id="voice_c"))
    assert again.save() is True
    assert json.loads(path.read_text())["serial"] == 2
    assert json.loads(path.read_text())["lineage"] == data["lineage"]


def test_a_change_undone_before_the_fold_writes_nothing(tmp_path):
    """The fold compares what the file says (a digest, serial aside), not whether
    anything was touched: a voice recorded and forgotten again leaves the file alone."""
    path = tmp_path / "voices.lock.json"
    first = Lockfile.load(path, stack="bots")
    first.record("a", LockEntry(voice_id="voice_a", status="completed"))
    assert first.save() is True
    text, mtime = path.read_text(), path.stat().st_mtime_ns
    again = Lockfile.load(path)
    again.record("b", LockEntry(voice_id="voice_b"))
    again.forget("voice_b")
    assert again.save() is False
    assert path.read_text() == text and path.stat().st_mtime_ns == mtime


def test_atomic_write_takes_text_in_pieces(tmp_path):
    from reconciler.fsutil import atomic_write

    target = tmp_path / "out.json"
    atomic_write(target, iter(["{", '\n  "é": 1', "\n}\n"]))
    assert target.read_text(encoding="utf-8") == '{\n  "é": 1\n}\n'
    atomic_write(target, b"raw")
    assert target.read_bytes() == b"raw"


def test_no_temp_files_left(tmp_path):
    lock = Lockfile.load(tmp_path / "voices.lock.json")
    for i in range(5):
        lock.record(f"v{i}", LockEntry(voice_id=f"voice_{i}"))
        lock.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voices.lock.json"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "voices.lock.json:1:2: not valid JSON"),
        ("[]", "not a voicectl lockfile"),
        ('{"version": 7, "lineage": "x"}', "unsupported lockfile version 7"),
        ('{"version": 1}', "lineage: Field required"),
        (
            '{"version": 1, "lineage": "x", "serial": "1"}',
            "serial: Input should be a valid integer",
        ),
        ('{"version": 1, "lineage": "x", "serial": -5}', "serial: Input should be greater than"),
        ('{"version": 1, "lineage": "x", "voices": {"a": {}}}', "voices.a.voiceId"),
        (
            '{"version": 1, "lineage": "x", "voices": {"a": {"voiceId": "voice_1"}, '
            '"b": {"voiceId": "voice_1"}}}',
            "voices.lock.json: voices.a and voices.b both record clone voice_1: keep the "
            "entry of the voice it is",
        ),
        (
            '{\n  "version": 1,\n<<<<<<< HEAD\n  "serial": 3,\n=======\n  "serial": 4,\n'
            '>>>>>>> theirs\n  "lineage": "x"\n}\n',
            "voices.lock.json:3:1: git merge conflict markers (<<<<<<<): resolve the conflict",
        ),
        (  # a merge that kept both sides' entry of one voice: the reader kept the last
            '{\n  "version": 1,\n  "lineage": "x",\n  "voices": {\n'
            '    "a": {"voiceId": "voice_1"},\n    "a": {"voiceId": "voice_2"}\n  }\n}\n',
            'voices.lock.json:6: key "a" appears twice in one object',
        ),
        (  # a repeated field: its name is in every entry, so the clone says which one
            '{"version": 1, "lineage": "x", "voices": {"a": {"voiceId": "voice_1"}, '
            '"b": {"voiceId": "voice_2", "voiceId": "voice_3"}}}',
            'voices.lock.json: key "voiceId" (in the entry of clone voice_2) appears twice',
        ),
        (  # the slow path (an older version's document) checks it too
            '{"version": 1, "version": 1, "lineage": "x", "serial": "not a number"}',
            'key "version" appears twice in one object',
        ),
    ],
)
def test_bad_lockfiles_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "voices.lock.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        Lockfile.load(path)
    assert message in err.value.message
    assert "\n" not in err.value.message


def _holder(lockfile) -> subprocess.Popen:
    """Another process holding the run lock until a line arrives on its stdin."""
    holder = textwrap.dedent(
        f"""
        import sys, time
        from reconciler.lockfile import RunLock
        with RunLock(__import__("pathlib").Path({str(lockfile)!r})):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_run_lock_refuses_a_second_holder_at_once(tmp_path):
    lockfile = tmp_path / "voices.lock.json"
    proc = _holder(lockfile)
    try:
        with pytest.raises(UserError) as err, RunLock(lockfile, timeout=0):
            pass
        assert "another voicectl run holds the lock" in err.value.message
        with pytest.raises(UserError) as err, RunLock(lockfile, timeout=0.3):
            pass
        assert "after waiting 0.3s" in err.value.message
    finally:
        proc.communicate("\n", timeout=10)
    with RunLock(lockfile, timeout=0):
        assert lock_path_for(lockfile).exists()


def test_a_plan_sees_the_run_lock_held_by_another_process_and_never_makes_one(tmp_path):
    from reconciler.lockfile.runlock import held_by_another

    lockfile = tmp_path / "voices.lock.json"
    assert not held_by_another(lockfile)
    assert not lock_path_for(lockfile).exists()  # asking creates nothing
    proc = _holder(lockfile)
    try:
        assert held_by_another(lockfile)
    finally:
        proc.communicate("\n", timeout=10)
    assert lock_path_for(lockfile).exists() and not held_by_another(lockfile)
    with RunLock(lockfile, timeout=0):  # the probe left no lock behind
        pass


def test_run_lock_with_a_timeout_says_it_waits_then_takes_the_lock(tmp_path):
    lockfile = tmp_path / "voices.lock.json"
    proc = _holder(lockfile)
    notices: list[str] = []

    def on_wait(message: str) -> None:  # told once, before waiting: now let the holder go
        notices.append(message)
        proc.stdin.write("\n")
        proc.stdin.flush()

    try:
        with RunLock(lockfile, timeout=600, on_wait=on_wait):
            assert proc.wait(30) == 0  # the holder is gone: the lock is ours
    finally:
        proc.communicate(timeout=10)
    assert notices == [
        f"{lockfile}: another voicectl run holds the lock; waiting up to 600s for it..."
    ]
    with RunLock(lockfile, timeout=600, on_wait=notices.append):  # free: no notice
        pass
    assert len(notices) == 1


def test_two_links_to_one_lockfile_share_its_journal_and_run_lock(tmp_path):
    """Two projects linking to one shared lockfile: their runs exclude each other
    (each had its own run lock and journal beside its link: both applied at once)."""
    shared = tmp_path / "shared" / "voices.lock.json"
    shared.parent.mkdir()
    shared.write_text('{"lineage": "x", "serial": 0, "stack": "s", "version": 1, "voices": {}}\n')
    links = []
    for project in ("web", "app"):
        (tmp_path / project).mkdir()
        link = tmp_path / project / "voices.lock.json"
        link.symlink_to(os.path.relpath(shared, link.parent))
        links.append(link)
    web, app = links
    assert lock_path_for(web) == lock_path_for(app) == lock_path_for(shared)
    assert journal_path_for(web) == journal_path_for(app) == journal_path_for(shared)
    proc = _holder(web)
    try:
        with pytest.raises(UserError) as err, RunLock(app, timeout=0):
            pass
        assert "another voicectl run holds the lock" in err.value.message
    finally:
        proc.communicate("\n", timeout=10)


def test_a_journal_an_older_voicectl_left_beside_the_link_is_replayed(tmp_path):
    """Before session 24 a symlinked lockfile's journal sat beside the link: a crash of
    such a run left it there, and it is replayed (then folded and removed), not lost."""
    shared = tmp_path / "shared" / "real.lock.json"
    shared.parent.mkdir()
    shared.write_text('{"lineage": "x", "serial": 0, "stack": "s", "version": 1, "voices": {}}\n')
    link = tmp_path / "voices.lock.json"
    link.symlink_to(shared)
    crashed = Lockfile.load(shared, stack="s")
    crashed.begin()
    crashed.record("alpha", LockEntry(voice_id="voice_a", status="completed"))
    crashed.close()  # killed before the fold
    old_place = tmp_path / ".voicectl" / "voices.lock.json.journal"
    old_place.parent.mkdir()
    os.replace(journal_path_for(shared), old_place)
    lock = Lockfile.load(link, stack="s")
    assert lock.recovered == 1 and lock.doc.voices["alpha"].voice_id == "voice_a"
    lock.begin()  # folds what it replayed
    lock.close()
    assert json.loads(shared.read_text())["voices"]["alpha"]["voiceId"] == "voice_a"
    assert not old_place.exists() and link.is_symlink()


def test_a_link_to_a_folder_that_does_not_exist_is_refused_before_anything(tmp_path):
    link = tmp_path / "voices.lock.json"
    link.symlink_to(tmp_path / "unmounted" / "share" / "voices.lock.json")
    with pytest.raises(UserError) as err, RunLock(link):
        pass
    assert "whose folder does not exist (a mistyped link, a share not mounted?)" in (
        err.value.message
    )
    assert not (tmp_path / "unmounted").exists()
