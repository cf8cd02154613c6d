"""Reading a multipart clone create, shared by ``voice-cloning`` and ``add_voice``.

Both create endpoints take the same form: a ``displayName`` of 1 to 500
characters and a ``file`` part of an accepted audio type, 1 byte to 5 MB; both
refuse a create past the organisation's clone limit. :func:`clone_from_form` runs
those checks in the service's order, with the endpoint's own fields checked in
between (``options``), and stores the new clone; the smaller helpers read and
check one part each.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox.faults import Decision
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.state import AudioInfo, CloneRecord
from reconciler.sandbox.wire import DECISION_KEY, ORG_KEY, error_response

MAX_UPLOAD_BYTES = 5_000_000  # "5 MB", read as the smaller of 5,000,000 bytes and 5 MiB
MAX_DISPLAY_NAME = 500
ACCEPTED_MIME_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/mpeg-3",
        "audio/wav",
        "audio/wave",
        "audio/webm",
        "video/webm",
        "audio/mp4",
        "video/mp4",
    }
)
OCTET_STREAM_EXTENSIONS = (".mp3", ".wav", ".mp4", ".webm")

CloneOptions = Callable[[FormData], dict[str, Any] | JSONResponse]


async def clone_from_form(request: Request, options: CloneOptions) -> CloneRecord | Response:
    """Validate a multipart create and store the clone, or the first problem's 400.

    The order of the checks: the form, ``displayName``, then ``options(form)``
    (the endpoint's own fields: it answers the keyword arguments of the new
    :class:`CloneRecord`, ``model_ids`` and ``legacy`` included, or an error),
    then ``file``, then the clone limit. (The service does not publish its
    order; checking the model before the file is what lets ``voicectl doctor``
    ask which models are accepted without sending audio, so nothing is made.)
    """
    sandbox: Sandbox = request.app.state.sandbox
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    try:
        display_name, problem = read_display_name(form)
        if problem is not None:
            return problem
        fields = options(form)
        if isinstance(fields, Response):
            return fields
        audio, problem = await read_upload(form)
        if problem is not None:
            return problem
        problem = limit_error(sandbox, request.scope[ORG_KEY])
        if problem is not None:
            return problem
        assert display_name is not None and audio is not None
        return new_clone(sandbox, request, display_name=display_name, audio=audio, **fields)
    finally:
        await form.close()


def new_clone(
    sandbox: Sandbox,
    request: Request,
    *,
    display_name: str,
    audio: AudioInfo,
    model_ids: list[str],
    legacy: bool,
    **metadata: Any,
) -> CloneRecord:
    config = sandbox.config
    decision: Decision | None = request.scope.get(DECISION_KEY)
    now_epoch, now_mono = time.time(), time.monotonic()
    clone = CloneRecord(
        record_id=sandbox.store.new_record_id(),
        voice_id=sandbox.store.new_voice_id(),
        display_name=display_name,
        model_ids=model_ids,
        created_epoch=now_epoch,
        ready_epoch=now_epoch + config.processing_seconds,
        outcome="failed" if decision is not None and decision.fails else "completed",
        listed_epoch=now_epoch + config.list_lag_ms / 1000.0,
        audio=audio,
        legacy=legacy,
        **metadata,
    )
    clone.anchor(now_epoch, now_mono)
    sandbox.store.add(request.scope[ORG_KEY], clone)
    sandbox.stats.clones_created += 1
    return clone


async def read_form(request: Request) -> FormData | JSONResponse:
    try:
        return await request.form(max_files=4, max_fields=50, max_part_size=1024 * 1024)
    except HTTPException as exc:
        return error_response(400, f"Invalid form body: {exc.detail}")


async def read_upload(form: FormData) -> tuple[AudioInfo, None] | tuple[None, JSONResponse]:
    """Validate the ``file`` part: present, an accepted MIME type, 1 byte to 5 MB."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None, error_response(400, "No file provided")
    filename = upload.filename or "audio"
    content_type = (upload.content_type or "application/octet-stream").split(";")[0]
    content_type = content_type.strip().lower()
    octet_ok = content_type == "application/octet-stream" and filename.lower().endswith(
        OCTET_STREAM_EXTENSIONS
    )
    if content_type not in ACCEPTED_MIME_TYPES and not octet_ok:
        return None, error_response(
            400,
            f"Unsupported file type '{content_type}'. Accepted types: "
            + ", ".join(sorted(ACCEPTED_MIME_TYPES)),
        )
    digest = hashlib.sha256()
    size = 0
    while chunk := await upload.read(1 << 16):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return None, error_response(400, "File too large: the maximum size is 5 MB")
        digest.update(chunk)
    if size == 0:
        return None, error_response(400, "file is empty")
    return AudioInfo(
        filename=filename, size=size, sha256=digest.hexdigest(), content_type=content_type
    ), None


def read_display_name(form: FormData) -> tuple[str, None] | tuple[None, JSONResponse]:
    value = form.get("displayName")
    if not isinstance(value, str) or value == "":
        return None, error_response(400, "displayName is required")
    if len(value) > MAX_DISPLAY_NAME:
        return None, error_response(
            400, f"displayName must be at most {MAX_DISPLAY_NAME} characters"
        )
    return value, None


def optional_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value != "" else None


def limit_error(sandbox: Sandbox, org_id: str) -> JSONResponse | None:
    limit = sandbox.config.clone_limit
    if len(sandbox.store.org(org_id).clones) >= limit:
        return error_response(
            400,
            f"Voice clone limit reached: this organization may hold at most {limit} clones "
            "(clone limit). Delete a clone first.",
        )
    return None
