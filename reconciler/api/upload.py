"""Multipart bodies for the clone endpoints, streamed from disk.

httpx sends a multipart part whose content is an open binary file in chunks
(64 KiB), and sizes it with ``fstat`` rather than reading it, so an upload
costs a constant amount of memory whatever the file's size. Each try opens the
file afresh (:func:`open_upload` is a context manager), so a retried create
sends the whole file again instead of the empty tail of a consumed one.

The part's MIME type comes from the file's real, sniffed format (never from
its extension, and never the ``audio/x-wav`` that ``mimetypes`` would guess).

httpx's multipart encoder yields about four small chunks per form field (the
boundary, the part's headers, its value, the CRLF), and every chunk becomes its
own socket write: about 22 writes for one small create. :class:`Coalesced`
joins them into writes of up to 64 KiB (the body is the same bytes, and memory
stays bounded by the chunk size), so a small sample goes out in one write after
the request line and headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from reconciler.api.models import CloneRequest
from reconciler.audio import MIME_TYPES, sniff_file

WRITE_SIZE = 64 * 1024  # the largest chunk of a request body (one socket write)


class UploadError(ValueError):
    """The sample cannot be uploaded: unreadable or not an accepted audio format."""


@dataclass(frozen=True)
class UploadFile:
    """A file ready to be sent as the ``file`` part."""

    path: Path
    filename: str
    mime_type: str


def describe_upload(path: Path) -> UploadFile:
    """Sniff the file and pick its part MIME type and filename (its basename)."""
    path = Path(path)
    try:
        kind = sniff_file(path)
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind is None or kind not in MIME_TYPES:
        raise UploadError(f"{path.name} is not a wav, mp3, mp4 or webm file")
    return UploadFile(path=path, filename=path.name, mime_type=MIME_TYPES[kind])


def clone_form(request: CloneRequest) -> dict[str, str]:
    """The text fields of a create; tags go as ONE comma-joined string."""
    form: dict[str, str] = {"displayName": request.display_name}
    if request.model:
        form["model"] = request.model
    if request.language:
        form["language"] = request.language
    if request.description is not None and request.description != "":
        form["description"] = request.description
    if request.accent:
        form["accent"] = request.accent
    tags = [t.strip() for t in request.tags if t and t.strip()]
    if tags:
        form["tags"] = ",".join(tags)
    return form


@contextmanager
def open_upload(upload: UploadFile) -> Iterator[dict[str, tuple[str, BinaryIO, str]]]:
    """The ``files=`` argument for httpx, with the file open for this one try."""
    try:
        handle: BinaryIO = open(upload.path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UploadError(f"cannot read {upload.path}: {exc.strerror or exc}") from None
    try:
        yield {"file": (upload.filename, handle, upload.mime_type)}
    finally:
        handle.close()


class Coalesced(httpx.AsyncByteStream):
    """A request body in fewer, larger chunks: consecutive chunks of ``stream`` are
    joined and cut into chunks of ``size`` bytes (the last one shorter); the bytes and
    their order are unchanged."""

    def __init__(self, stream: httpx.AsyncByteStream, size: int = WRITE_SIZE):
        self._stream = stream
        self._size = size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = bytearray()
        async for chunk in self._stream:
            pending += chunk
            while len(pending) >= self._size:
                yield bytes(pending[: self._size])
                del pending[: self._size]
        if pending:
            yield bytes(pending)

    async def aclose(self) -> None:
        await self._stream.aclose()
