"""A lockfile whose folder takes new files but that cannot itself be replaced: apply
says so in one line before its first create (before, the creates were sent and only
the final fold failed, and every later apply failed the same way).

Each case needs root's powers (chattr, mount); where the machine refuses them, the
case is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


def _try(*args: str) -> bool:
    if shutil.which(args[0]) is None:
        return False
    return subprocess.run(args, capture_output=True).returncode == 0


@contextmanager
def immutable_flag(flag: str, path: Path) -> Iterator[None]:
    if not _try("chattr", flag, str(path)):
        pytest.skip(f"chattr {flag} is not possible here")
    try:
        yield
    finally:
        _try("chattr", "-" + flag[1:], str(path))


def immutable(path: Path):
    return immutable_flag("+i", path)


@contextmanager
def mounted(*args: str, at: Path) -> Iterator[None]:
    if not _try("mount", *args, str(at)):
        pytest.skip("mount is not possible here")
    try:
        yield
    finally:
        _try("umount", str(at))


def creates(project: Project) -> int:
    return project.server.stats()["clones_created"]


def test_an_immutable_lockfile_stops_apply_before_its_first_create(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.write({"alpha": {}, "bravo": {}})
    before = creates(project)
    with immutable(project.lockfile):
        r = project.run("apply", "--auto-approve", expect=1)
    assert r.err == (
        f"Error: {project.lockfile}: cannot write the lockfile: the file is immutable or "
        "append-only (chattr)\n"
    )
    assert creates(project) == before
    assert "Apply complete! 1 created" in project.run("apply", "--auto-approve").out


def test_a_bind_mounted_lockfile_stops_apply_before_its_first_create(project, tmp_path):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    outside = tmp_path / "outside.json"
    outside.write_bytes(project.lockfile.read_bytes())
    project.write({"alpha": {}, "bravo": {}})
    before = creates(project)
    with mounted("--bind", str(outside), at=project.lockfile):
        r = project.run("apply", "--auto-approve", expect=1)
    assert r.err.startswith(f"Error: {project.lockfile}: cannot write the lockfile: the file")
    assert "is a mount point of its own (bind-mounted): mount its folder" in r.err
    assert creates(project) == before


def test_a_disk_too_full_for_the_runs_journal_stops_apply_before_its_first_create(
    project, tmp_path
):
    """30 creates journal ~45 kB and fold into a lockfile beside the old one: on a
    64 kB disk the room is proved missing first, not after the creates."""
    disk = tmp_path / "small"
    disk.mkdir()
    project.write({f"v{i:02d}": {} for i in range(30)})
    with mounted("-t", "tmpfs", "-o", "size=64k", "tmpfs", at=disk):
        lockfile = disk / "voices.lock.json"
        r = project.run("apply", "--auto-approve", "--lockfile", str(lockfile), expect=1)
        assert r.err.startswith(f"Error: {lockfile}: cannot write the lockfile: No space left")
        assert creates(project) == 0
        left = sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file())
        assert "voices.lock.json" not in left and not any("journal" in p for p in left), left


def test_an_append_only_project_folder_stops_apply_before_its_first_create(project):
    """`chattr +a`: new files can be made there, never renamed or removed: the
    lockfile's temp file could not replace it (and the probe's could not go)."""
    project.write({"alpha": {}})
    with immutable_flag("+a", project.root):
        r = project.run("apply", "--auto-approve", expect=1)
        left = sorted(p.name for p in project.root.iterdir())
    assert r.err == (
        f"Error: {project.lockfile}: cannot write the lockfile: the folder is immutable or "
        "append-only (chattr)\n"
    )
    assert creates(project) == 0
    assert not [name for name in left if name.endswith((".probe", ".tmp"))], left


def test_a_journal_that_cannot_be_removed_after_its_fold_is_one_line(project):
    """A crashed run's journal is folded, then cannot be removed (its folder made
    immutable): one line naming it, not an internal error; the lockfile is written."""
    from reconciler.lockfile import LockEntry, Lockfile, journal_path_for

    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    lock = Lockfile.load(project.lockfile)
    lock.begin()
    entry = lock.doc.voices["alpha"]
    lock.record("alpha", LockEntry(voice_id=entry.voice_id, status="completed"))
    lock.close()  # killed before the fold: the journal stays
    journal = journal_path_for(project.lockfile)
    with immutable_flag("+i", journal.parent):
        r = project.run("apply", "--auto-approve", expect=1)
    assert r.err == (
        f"Error: {journal}: cannot remove the folded lockfile journal: Operation not permitted\n"
    )
    assert journal.exists()  # nothing lost: the next run, with the folder writable, ends it
    assert "No changes" in project.run("apply", "--auto-approve").out and not journal.exists()


def test_an_append_only_voicectl_folder_stops_apply_before_its_first_create(project):
    """The journal's folder takes new files but never lets them go: refused up front
    (before, every change was made and the run failed removing its journal)."""
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.write({"alpha": {}, "bravo": {}})
    before = creates(project)
    state = project.root / ".voicectl"
    with immutable_flag("+a", state):
        r = project.run("apply", "--auto-approve", expect=1)
    assert r.err == (
        f"Error: {state / 'voices.lock.json.journal'}: cannot write the lockfile journal: "
        "the folder is immutable or append-only (chattr)\n"
    )
    assert creates(project) == before
