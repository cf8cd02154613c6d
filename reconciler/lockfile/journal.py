"""The lockfile's journal: an append-only file of fsync'd steps, replayed after a crash.

Rewriting the whole lockfile after every step costs O(voices) per step, so a
run of N creates costs O(N²). Instead every step of a run is appended to
``.voicectl/<lockfile name>.journal`` as ONE line and fsync'd before the run
goes on (O(1) per step); the lockfile itself is written once, at the end of the
run (temp file + fsync + rename), and the journal is then removed.

The file::

    {"journal": 1, "lineage": "<uuid>", "serial": 7, "stack": "bots"}   <- header
    {"ops": [["set", "voices", "narrator", {...entry...}], ["del", "pending", "v_1"]]}
    ...

* The header names the lockfile state the steps apply to (its lineage and
  serial). A journal whose lockfile has moved on (the fold's rename happened,
  the journal's removal did not) is stale and ignored.
* A line is one step and is applied whole or not at all: a line cut short by a
  crash (no trailing newline, or not JSON) ends the replay; nothing after it was
  ever acknowledged.
* A line that is whole JSON but not what voicectl writes (a header or a step of
  the wrong shape, an operation of the wrong types) is no crash's doing: it was
  edited or damaged. It is neither replayed nor dropped: the command stops with
  :class:`JournalDamaged` (one line: the journal, the line, what is wrong) before
  anything is written, so the journal is still there to be checked.
* Operations are plain data (``set``/``del`` of a key in one of the document's
  maps, ``stack``), so replaying a step twice gives the same document.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import UserError
from reconciler.fsutil import read_regular, write_target
from reconciler.lockfile.model import JsonBeyondLimits, loads_json

JOURNAL_VERSION = 1

Op = list[Any]  # ["set", section, key, value] | ["del", section, key] | ["stack", value]


class LockfileWriteError(UserError):
    """The journal or the lockfile could not be written; the run must stop changing things."""


class JournalDamaged(UserError):
    """A whole line of the journal is not one voicectl wrote; nothing was replayed."""


def damaged(path: Path, line: int, what: str) -> JournalDamaged:
    """The one-line refusal for line ``line`` of the journal at ``path`` (at column 1,
    the line's start: ``file:line:col`` is what JSON output reads positions from)."""
    lockfile = path.parent.parent / path.name.removesuffix(".journal")
    return JournalDamaged(
        f"{path}:{line}:1: damaged lockfile journal: {what}; "
        f"{lockfile} itself is untouched: check the journal, then move it aside and run "
        "`voicectl plan` (clones it recorded are found again by their ownership tags)"
    )


def brief(value: Any, limit: int = 60) -> str:
    """``value`` as short JSON for a message: ASCII, so no control character is printed."""
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


STATE_DIR = ".voicectl"  # beside the lockfile: its journal and run lock (the caches too)


def real_lockfile(lockfile: Path) -> Path:
    """The file a write of ``lockfile`` changes: the file itself, or what a symbolic
    link to it points at. Its journal and run lock sit beside that file, so two
    projects linking to one lockfile share them (and never run at once)."""
    return write_target(lockfile)


def journal_beside_link(lockfile: Path) -> Path | None:
    """Where voicectl before session 24 kept a symlinked lockfile's journal (beside the
    link, not its target), or None when ``lockfile`` is no link: a crash of such a run
    left its journal there, and it is replayed from there."""
    lockfile = Path(lockfile)
    if not os.path.islink(lockfile):
        return None
    return lockfile.parent / STATE_DIR / f"{lockfile.name}.journal"


def state_folder(lockfile: Path) -> Path:
    """The folder of ``lockfile``'s journal and run lock."""
    return real_lockfile(lockfile).parent / STATE_DIR


def journal_path_for(lockfile: Path) -> Path:
    """Where the journal of ``lockfile`` lives (beside the run lock)."""
    return state_folder(lockfile) / f"{real_lockfile(lockfile).name}.journal"


def folder_in_the_way(path: Path) -> UserError | None:
    """The one line for ``path``'s folder (``.voicectl``) when it exists and is not a
    folder (a file someone made, a link to nothing), so voicectl's files cannot be
    read or made in it; None when the folder is not the trouble. Asked only after an
    ``OSError`` (it stats the folder): the common case pays nothing."""
    folder = path.parent
    if not os.path.lexists(folder) or folder.is_dir():
        return None
    if folder.is_file():
        return UserError(f"{folder}: is a file, not voicectl's folder (move it aside)")
    return UserError(
        f"{folder}: is not a folder, so voicectl cannot keep its files there (move it aside)"
    )


def write_error(path: Path, exc: OSError, what: str = "write") -> LockfileWriteError:
    reason = exc.strerror or str(exc)
    return LockfileWriteError(f"{path}: cannot {what}: {reason}")


@dataclass
class Replay:
    """What a journal on disk says: its header and its whole steps."""

    path: Path
    lineage: str
    serial: int
    stack: str
    steps: list[list[Op]] = field(default_factory=list)  # step i is on line i + 2
    torn: bool = False  # the last line was cut short by a crash
    # the first whole line that is not a step (the steps before it are in ``steps``);
    # raised by whoever replays the journal, not by a reader that finds it stale
    damage: JournalDamaged | None = None


def read(path: Path) -> Replay | None:
    """The journal at ``path``; None if there is none or it was cut inside its header.

    Raises :class:`JournalDamaged` for a whole header that is not one.
    """
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        in_the_way = folder_in_the_way(path)
        if in_the_way is not None:
            raise in_the_way from None
        raise UserError(f"{path}: cannot read the lockfile journal: {exc.strerror or exc}") from exc
    lines = raw.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" unless the last write was cut short
    if not lines:
        return None  # cut inside the header: nothing was journalled yet
    # The header is fsync'd before any step is written: a whole one is never a cut.
    replay = Replay(path, *_header(path, lines[0]))
    for number, line in enumerate(lines[1:], start=2):
        try:
            step = loads_json(line)
        except JsonBeyondLimits as exc:  # no crash cuts a line voicectl wrote into this
            replay.damage = damaged(path, number, f"not valid JSON: {exc.reason}")
            return replay
        except ValueError:
            replay.torn = True
            return replay
        if not isinstance(step, dict) or not isinstance(step.get("ops"), list):
            replay.damage = damaged(path, number, 'not a step (expected {"ops": [...]})')
            return replay
        replay.steps.append(step["ops"])
    replay.torn = bool(tail)
    return replay


def _header(path: Path, line: bytes) -> tuple[str, int, str]:
    """(lineage, serial, stack) of a whole header line; JournalDamaged if it is not one."""
    try:
        head = loads_json(line)
    except JsonBeyondLimits as exc:
        raise damaged(path, 1, f"the header is not valid JSON: {exc.reason}") from None
    except ValueError:
        raise damaged(path, 1, "the header is not JSON") from None
    if not isinstance(head, dict) or "journal" not in head:
        raise damaged(path, 1, "the first line is not a journal header")
    version, lineage, serial = head.get("journal"), head.get("lineage"), head.get("serial")
    stack = head.get("stack")
    if version != JOURNAL_VERSION:
        problem = f"journal version {brief(version)} (this voicectl reads {JOURNAL_VERSION})"
    elif not isinstance(lineage, str):
        problem = "the header's lineage is not text"
    elif type(serial) is not int:  # exactly: true is not a serial
        problem = "the header's serial is not a whole number"
    elif stack is not None and not isinstance(stack, str):
        problem = "the header's stack is not text"
    else:
        return lineage, serial, stack or "default"
    raise damaged(path, 1, problem)


class Journal:
    """An open journal: ``append`` writes one step and fsyncs it.

    With ``sync=False`` the step is only written; :meth:`sync` (or, from async
    code, :meth:`flush`, which lets concurrent steps share one fsync: group
    commit) makes everything written so far durable.
    """

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd = fd
        self.failed: LockfileWriteError | None = None
        self.written = 0  # steps written
        self.synced = 0  # steps known durable
        self._flushing: asyncio.Future[None] | None = None

    @classmethod
    def create(cls, path: Path, *, lineage: str, serial: int, stack: str) -> Journal:
        """Start a fresh journal for the lockfile state (lineage, serial); fsync'd."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o666)
        except OSError as exc:
            in_the_way = folder_in_the_way(path)
            if in_the_way is not None:
                raise LockfileWriteError(in_the_way.message) from None
            raise write_error(path, exc, "create the lockfile journal") from None
        journal = cls(path, fd)
        head = {"journal": JOURNAL_VERSION, "lineage": lineage, "serial": serial, "stack": stack}
        try:
            journal._write(head)
        except LockfileWriteError:
            journal.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        fsync_dir(path.parent)
        return journal

    def append(self, ops: list[Op], *, default: Any = None, sync: bool = True) -> None:
        """Write one step (all of ``ops``, or none of them after a crash); durable at
        once unless ``sync`` is False. ``default`` turns models into data."""
        if self.failed is not None:
            raise self.failed
        self._write({"ops": ops}, default, sync=sync)
        self.written += 1
        if sync:
            self.synced = self.written

    def _write(self, record: dict[str, Any], default: Any = None, *, sync: bool = True) -> None:
        try:
            for data in _encoded(record, default):
                view = memoryview(data)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            if sync:
                os.fsync(self._fd)
        except OSError as exc:
            raise self._fail(exc) from None

    def _fail(self, exc: OSError) -> LockfileWriteError:
        self.failed = write_error(self.path, exc, "write the lockfile journal")
        return self.failed

    def sync(self) -> None:
        """Make every step written so far durable (one fsync)."""
        if self.failed is not None:
            raise self.failed
        if self.synced < self.written:
            upto = self.written
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise self._fail(exc) from None
            self.synced = max(self.synced, upto)

    async def flush(self) -> None:
        """Wait until every step written so far is durable.

        One fsync runs at a time, in a worker thread; the steps written while it
        runs are covered by the next one, so N concurrent operations share fsyncs
        instead of paying one each (group commit).
        """
        target = self.written
        while self.synced < target:
            if self.failed is not None:
                raise self.failed
            if self._flushing is None:
                self._flushing = asyncio.ensure_future(self._fsync_once())
            await asyncio.shield(self._flushing)
        if self.failed is not None:
            raise self.failed

    async def _fsync_once(self) -> None:
        upto = self.written
        try:
            await asyncio.to_thread(os.fsync, self._fd)
        except OSError as exc:
            self._fail(exc)
        else:
            self.synced = max(self.synced, upto)
        finally:
            self._flushing = None

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


CHUNK_CHARS = 256 * 1024


def _dumps(value: Any, default: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


def _encoded(record: dict[str, Any], default: Any) -> Iterator[bytes]:
    """``record``'s line (JSON and a newline) in pieces of about ``CHUNK_CHARS``.

    The same bytes as one ``json.dumps`` of it, but a step of many ops (the
    ``listedAt`` of 10,000 clones at the end of a run) is never one string of
    megabytes, and its bytes, at once: its ops are encoded one by one. Written in
    several pieces a line is still all or nothing: one cut short by a crash is torn
    (no newline, not JSON), and the replay ends before it.
    """
    ops = record.get("ops")
    if len(record) != 1 or not isinstance(ops, list) or len(ops) < 2:
        yield (_dumps(record, default) + "\n").encode()
        return
    parts, size = ['{"ops":['], 0
    for index, op in enumerate(ops):
        text = _dumps(op, default)
        parts.append("," + text if index else text)
        size += len(text)
        if size >= CHUNK_CHARS:
            yield "".join(parts).encode()
            parts, size = [], 0
    parts.append("]}\n")
    yield "".join(parts).encode()


def remove(path: Path) -> None:
    """Delete a folded journal (a crash before this leaves a stale one, ignored later)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # an immutable or append-only folder, say: the fold is done
        raise write_error(path, exc, "remove the folded lockfile journal") from None
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms without directory file descriptors
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
