"""Crash-safe file writes, shared by the lockfile, saved plans, manifests and the sandbox."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def usual_mode(fd: int, *, like: Path | None = None) -> None:
    """Give a file made by ``mkstemp`` (always 0600) the mode a plain ``open`` would:
    0666 less the umask, or the mode of the file it replaces. Apps and CI read
    what voicectl writes (the lockfile, plans, maps, manifests, samples)."""
    mode = None
    if like is not None:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(like).st_mode)
    if mode is None:
        mode = 0o666 & ~current_umask()
    with contextlib.suppress(OSError):  # a filesystem without modes
        os.fchmod(fd, mode)


def write_target(path: Path) -> Path:
    """The file a write of ``path`` replaces: ``path`` itself or, when it is a symbolic
    link, the file the link points at (even one that does not exist yet). Renaming a
    temp file over the link would replace the link with a regular file, and whatever
    reads the link's target (a shared lockfile, a monorepo link) would keep the old
    content."""
    path = Path(path)
    if not os.path.islink(path):
        return path
    return Path(os.path.realpath(path))  # every hop, relative links from their own folder


def atomic_write(path: Path, data: str | bytes | Iterable[str]) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole.

    Temp file in the same folder, fsync, rename, then fsync the folder so the
    rename itself survives a power cut. Text is written as UTF-8 with ``\\n``;
    pieces of text (an iterable of str) are written as they come. A symbolic link
    stays a link: its target is replaced, in the target's folder (:func:`write_target`).
    """
    linked = os.path.islink(path)
    path = write_target(path)
    if not linked:  # a link's target folder is the link's business: not made here
        path.parent.mkdir(parents=True, exist_ok=True)
    pieces: Iterable[bytes]
    if isinstance(data, bytes):
        pieces = (data,)
    elif isinstance(data, str):
        pieces = (data.encode("utf-8"),)
    else:
        pieces = (piece.encode("utf-8") for piece in data)
    import tempfile  # on the first write: a run that writes nothing never loads it

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        usual_mode(fd, like=path)
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # platforms without directory file descriptors
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def probe_write(path: Path, size: int = 0) -> None:
    """Prove that ``path`` could be written by :func:`atomic_write` (raise ``OSError``
    if not), creating nothing: a temp file (``size`` bytes reserved: a full disk
    fails here too) is made beside it and removed. A folder that does not exist
    yet is probed in its nearest existing parent, where atomic_write would make it;
    a symbolic link, in its target's folder, where atomic_write writes."""
    linked = os.path.islink(path)
    path = write_target(path)
    folder = path.parent
    if linked and not folder.is_dir():
        raise FileNotFoundError(2, "the link's target folder does not exist", str(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    import tempfile

    if folder == path.parent and _immutable(folder):  # files made, never renamed or removed
        raise PermissionError(1, "the folder is immutable or append-only (chattr)", str(folder))
    if path.exists():
        _replaceable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".probe", dir=folder)
    try:
        if size:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, 0, size)
            else:  # pragma: no cover - every POSIX system voicectl runs on has it
                os.write(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _replaceable(path: Path) -> None:
    """Raise ``OSError`` when the existing file ``path`` could not be replaced by a
    rename over it, though its folder takes new files: it is immutable or append-only
    (``chattr +i``/``+a``: EPERM), or a mount point of its own (a file bind-mounted
    into a container: EBUSY). A read-only mode (0444) is no obstacle to a rename."""
    if _immutable(path):
        raise PermissionError(1, "the file is immutable or append-only (chattr)", str(path))
    if str(Path(os.path.realpath(path))) in _mount_points():
        raise OSError(
            16, "the file is a mount point of its own (bind-mounted): mount its folder", str(path)
        )


_FS_IOC_GETFLAGS = 0x80086601  # Linux: the inode flags chattr sets
_IMMUTABLE_OR_APPEND = 0x10 | 0x20


def _immutable(path: Path) -> bool:
    """Linux's immutable or append-only inode flag (False where it cannot be read)."""
    try:
        import array
        import fcntl

        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (ImportError, OSError):
        return False
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        return bool(flags[0] & _IMMUTABLE_OR_APPEND)
    except OSError:  # a filesystem without inode flags (tmpfs answers ENOTTY)
        return False
    finally:
        os.close(fd)


def _mount_points() -> set[str]:
    """This process's mount points (Linux: /proc/self/mountinfo; elsewhere none known)."""
    try:
        lines = read_regular(Path("/proc/self/mountinfo")).decode("utf-8", "replace")
    except OSError:
        return set()
    points = set()
    for line in lines.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:  # octal escapes for space, tab, newline, backslash
            points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4]))
    return points


class NotRegularFile(OSError):
    """A path that is a FIFO, socket or device: reading it would wait for a writer or
    never end, so voicectl's own files must be regular files."""


def read_regular(path: Path) -> bytes:
    """The bytes of ``path``, a regular file. Opened without blocking, so a FIFO (or
    a socket, a device) raises :class:`NotRegularFile` at once instead of hanging;
    a folder raises ``IsADirectoryError`` and a missing file ``FileNotFoundError``,
    as ``open`` does."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket or device"
            raise NotRegularFile(0, f"not a regular file ({kind})", str(path))
        with open(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)
