"""The lockfile's journal: every step durable at once, folded at the end, replayed after a crash.

The cut tests rebuild, byte by byte, every state a crash can leave on disk (inside
any journal write, inside the fold's temp file, between the fold's rename and the
journal's removal) and check that the next load sees exactly the steps that were
whole. A real process killed with SIGKILL after each acknowledged step checks the
same against the operating system.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.lockfile import (
    LockEntry,
    Lockfile,
    PendingEntry,
    RetiredEntry,
    journal_path_for,
    to_text,
)
from reconciler.lockfile import journal as journal_module

ROOT = Path(__file__).resolve().parents[2]


def _voices(lock: Lockfile) -> dict[str, str]:
    return {n: e.voice_id for n, e in lock.doc.voices.items()}


STEPS = [  # a replacement's whole life, plus a create and two forgets: one journal line each
    lambda lock: lock.record("a", LockEntry(voice_id="v_a1", status="completed")),
    lambda lock: lock.record("b", LockEntry(voice_id="v_b1", status="completed")),
    lambda lock: lock.begin_replacement(
        "v_a2", PendingEntry(name="a", kind="replace", replaces="v_a1")
    ),
    lambda lock: _record_and_retire(lock),
    lambda lock: lock.forget("v_a1"),
    lambda lock: lock.forget("v_b1"),
]


def _record_and_retire(lock: Lockfile) -> None:
    with lock.step():
        lock.record("a", LockEntry(voice_id="v_a2", status="completed"))
        lock.retire("v_a1", RetiredEntry(name="a", replaced_by="v_a2", keep=False))


def _steps(lock: Lockfile) -> None:
    for step in STEPS:
        step(lock)


def _said(lock: Lockfile) -> dict:
    """What the document says, without its lineage and serial."""
    data = json.loads(to_text(lock.doc))
    del data["lineage"], data["serial"]
    return data


def _snapshots(path: Path) -> list[dict]:
    """What the document says after each step (index 0: before any), journal-free."""
    lock = Lockfile.load(path, stack="s")
    states = [_said(lock)]
    for step in STEPS:
        step(lock)
        states.append(_said(lock))
    return states


def test_steps_are_durable_before_the_fold_and_the_lockfile_is_written_once(tmp_path):
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    lock.record("a", LockEntry(voice_id="v_a"))
    assert not path.exists()  # not rewritten per step...
    again = Lockfile.load(path)  # ...but a crash now loses nothing
    assert _voices(again) == {"a": "v_a"} and again.recovered == 1
    assert again.doc.lineage == lock.doc.lineage and again.doc.stack == "s"
    lock.record("b", LockEntry(voice_id="v_b"))
    assert lock.fold() is True
    data = json.loads(path.read_text())
    assert data["serial"] == 1 and set(data["voices"]) == {"a", "b"}
    assert not journal_path_for(path).exists()


def test_a_no_op_run_leaves_the_lockfile_byte_identical(tmp_path):
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="s")
    lock.record("a", LockEntry(voice_id="v_a", status="completed"))
    lock.fold()
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    lock.record("a", LockEntry(voice_id="v_a", status="completed"))  # the same: no step
    lock.set_stack("s")
    assert journal_path_for(path).read_text().count("\n") == 1  # the header only
    assert lock.fold() is False
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert not journal_path_for(path).exists()


@pytest.mark.parametrize("existing", [False, True])
def test_a_cut_anywhere_in_the_journal_keeps_exactly_the_whole_steps(tmp_path, existing):
    path = tmp_path / "voices.lock.json"
    if existing:
        seed = Lockfile.load(path, stack="s")
        seed.record("z", LockEntry(voice_id="v_z"))
        seed.fold()
    base = path.read_bytes() if existing else None
    states = _snapshots(path)
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    _steps(lock)
    jpath = journal_path_for(path)
    full = jpath.read_bytes()
    lock.close()  # the run "dies" here: no fold
    ends = [i + 1 for i, byte in enumerate(full) if byte == ord("\n")]
    assert len(ends) == len(states)  # a header, then one line per step

    for cut in range(len(full) + 1):
        jpath.write_bytes(full[:cut])
        whole = sum(1 for end in ends[1:] if end <= cut)  # steps wholly on disk
        seen = Lockfile.load(path, stack="s")
        if cut < ends[0]:  # cut inside the header: nothing was journalled
            assert seen.recovered == 0
            assert _voices(seen) == ({"z": "v_z"} if existing else {})
            continue
        assert _said(seen) == states[whole], f"cut at byte {cut}"
        assert seen.doc.lineage == lock.doc.lineage  # a new lockfile's comes from the journal
        assert path.read_bytes() == base if existing else not path.exists()


def test_every_crash_point_of_a_fold_recovers(tmp_path):
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="s")
    lock.record("z", LockEntry(voice_id="v_z"))
    lock.fold()
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    _steps(lock)
    journal = journal_path_for(path)
    journal_bytes = journal.read_bytes()
    old = path.read_bytes()
    final = to_text(lock.doc.model_copy(update={"serial": lock.doc.serial + 1}))

    # 1. killed while writing the temp file (any length of it): the old file stays whole
    for cut in (0, 1, len(final) // 2, len(final)):
        (tmp_path / ".voices.lock.json.x.tmp").write_text(final[:cut])
        seen = Lockfile.load(path, stack="s")
        assert seen.recovered == 6 and set(_voices(seen)) == {"a", "z"}
        assert path.read_bytes() == old
    # 2. killed after the rename, before the journal's removal: the journal is stale
    path.write_text(final)
    journal.write_bytes(journal_bytes)
    seen = Lockfile.load(path, stack="s")
    assert seen.recovered == 0 and to_text(seen.doc) == final
    # the next run folds nothing new, removes the stale journal, keeps the file
    seen.begin()
    assert seen.fold() is False and path.read_text() == final
    assert not journal.exists()


def test_the_next_run_folds_a_torn_journal_before_journalling_its_own(tmp_path):
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    lock.record("a", LockEntry(voice_id="v_a"))
    lock.record("b", LockEntry(voice_id="v_b"))
    lock.close()
    journal = journal_path_for(path)
    journal.write_bytes(journal.read_bytes()[:-7])  # the last step was cut short
    lock = Lockfile.load(path, stack="s")
    assert _voices(lock) == {"a": "v_a"}
    lock.begin()  # folds what was recovered, then a fresh journal
    assert json.loads(path.read_text())["voices"].keys() == {"a"}
    lock.record("c", LockEntry(voice_id="v_c"))
    assert _voices(Lockfile.load(path)) == {"a": "v_a", "c": "v_c"}
    lock.fold()
    assert set(json.loads(path.read_text())["voices"]) == {"a", "c"}


def test_a_journal_of_another_lockfile_is_ignored(tmp_path):
    path = tmp_path / "voices.lock.json"
    other = tmp_path / "other" / "voices.lock.json"
    lock = Lockfile.load(other, stack="s")
    lock.begin()
    lock.record("x", LockEntry(voice_id="v_x"))
    lock.close()
    mine = Lockfile.load(path, stack="s")
    mine.record("a", LockEntry(voice_id="v_a"))
    mine.fold()
    journal_path_for(path).parent.mkdir(exist_ok=True)
    journal_path_for(path).write_bytes(journal_path_for(other).read_bytes())
    assert _voices(Lockfile.load(path)) == {"a": "v_a"}


WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from reconciler.lockfile import LockEntry, Lockfile
    lock = Lockfile.load(Path(sys.argv[1]), stack="s")
    lock.begin()
    for i in range(int(sys.argv[2])):
        lock.record(f"v{i}", LockEntry(voice_id=f"voice_{i}"))
        print(i, flush=True)  # acknowledged: the step is on disk
    sys.stdin.readline()  # never folds: the parent kills it
    """
)


@pytest.mark.parametrize("after", [1, 7])
def test_sigkill_after_acknowledged_steps_loses_none_of_them(tmp_path, after):
    path = tmp_path / "voices.lock.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(path), "50"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        acknowledged = [proc.stdout.readline() for _ in range(after)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stdin.close()
    assert len(acknowledged) == after
    seen = Lockfile.load(path)
    ids = _voices(seen)
    for i in range(after):  # every acknowledged step, maybe a few more
        assert ids[f"v{i}"] == f"voice_{i}"
    assert list(ids) == [f"v{i}" for i in range(len(ids))]  # in order, no gaps
    seen.begin()
    seen.fold()
    assert set(json.loads(path.read_text())["voices"]) == set(ids)


GROUP_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from reconciler.lockfile import LockEntry, Lockfile
    lock = Lockfile.load(Path(sys.argv[1]), stack="s")
    lock.begin(group_commit=True)

    async def one(i):
        await asyncio.sleep(0)
        lock.record(f"v{i}", LockEntry(voice_id=f"voice_{i}"))
        await lock.durable()  # concurrent steps share an fsync
        print(i, flush=True)  # acknowledged only once durable

    async def main():
        await asyncio.gather(*(one(i) for i in range(int(sys.argv[2]))))
        print("all", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # never folds: the parent kills it

    asyncio.run(main())
    """
)


def test_group_commit_acknowledges_only_durable_steps(tmp_path):
    path = tmp_path / "voices.lock.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", GROUP_WORKER, str(path), "40"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        acknowledged = []
        for line in proc.stdout:
            if line.strip() == "all":
                break
            acknowledged.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stdin.close()
    assert sorted(acknowledged) == list(range(40))
    ids = _voices(Lockfile.load(path))
    assert ids == {f"v{i}": f"voice_{i}" for i in range(40)}


def test_a_step_of_many_ops_is_written_in_pieces_as_one_whole_line(tmp_path, monkeypatch):
    # A big step (the listedAt of every clone at the end of a run) is encoded op by
    # op, never as one string of megabytes; on disk it is the same single line, and
    # a crash between its pieces leaves a torn line that the replay stops before.
    monkeypatch.setattr(journal_module, "CHUNK_CHARS", 64)
    path = tmp_path / "voices.lock.json"
    lock = Lockfile.load(path, stack="s")
    lock.begin()
    lock.record("first", LockEntry(voice_id="v_first"))
    with lock.step():
        for i in range(40):
            lock.record(f"n{i}", LockEntry(voice_id=f"v_{i}", display_name="é" * i))
    jpath = journal_path_for(path)
    full = jpath.read_bytes()
    lock.close()
    head, first, big, tail = full.split(b"\n")
    assert tail == b"" and len(json.loads(big)["ops"]) == 40
    assert big == json.dumps(json.loads(big), ensure_ascii=False, separators=(",", ":")).encode()
    assert set(_voices(Lockfile.load(path))) == {"first"} | {f"n{i}" for i in range(40)}
    pieces = list(journal_module._encoded(json.loads(big), None))
    assert len(pieces) > 10 and b"".join(pieces) == big + b"\n"
    start = len(head) + len(first) + 2
    for piece in pieces[:-1]:
        start += len(piece)
        jpath.write_bytes(full[:start])
        assert set(_voices(Lockfile.load(path))) == {"first"}


@pytest.mark.parametrize("journalled", [True, False])
def test_listed_marks_are_one_step_and_say_what_a_refresh_would(tmp_path, journalled):
    # mark_listed changes the entries in place (no copy of each), after its journal
    # line: what a crash then replays, and what the fold writes, are what refreshing
    # each entry with a copy gives.
    stamp = "2026-01-01T00:00:00.000Z"
    paths = {}
    for way in ("refresh", "mark"):
        path = tmp_path / way / "voices.lock.json"
        path.parent.mkdir()
        seed = Lockfile.load(path, stack="s")
        for name in ("a", "b", "c"):
            seed.record(name, LockEntry(voice_id=f"v_{name}", status="completed"))
        seed.fold()
        lock = Lockfile.load(path, stack="s")
        if journalled:
            lock.begin()
        if way == "refresh":
            with lock.step():
                for name in ("a", "c"):
                    entry = lock.doc.voices[name]
                    lock.refresh(name, entry.model_copy(update={"listed_at": stamp}))
        else:
            lock.mark_listed(["a", "c", "gone"], stamp)
            lock.mark_listed(["a"], stamp)  # already so: no second line
        if journalled:
            jpath = journal_path_for(path)
            assert jpath.read_text().count("\n") == 2  # the header and ONE step
            lock.close()  # the run dies: the next load replays the step
            assert Lockfile.load(path).doc.voices["c"].listed_at == stamp
            lock = Lockfile.load(path, stack="s")
        assert lock.fold() is True
        paths[way] = path
    mark, refresh = (json.loads(paths[w].read_text()) for w in ("mark", "refresh"))
    for data in (mark, refresh):
        del data["lineage"]
    assert mark == refresh
    assert [mark["voices"][n].get("listedAt") for n in "abc"] == [stamp, None, stamp]
