"""The ``/_sandbox/`` hooks: what tests use to look at and steer the emulator.

They read the state and statistics, reset the sandbox, change its config at
run time, serve the clones' sample WAVs, seed clones of any kind (legacy, Pro,
failed) when ``add_voice`` is gone, and edit a clone behind voicectl's back, as
the dashboard can. They sit outside the gate: no key, no limit, no faults.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import wav
from reconciler.sandbox.cloning import SAMPLE_TEXTS, list_entry
from reconciler.sandbox.config import SandboxConfig, describe_validation_error, org_id_for_key
from reconciler.sandbox.runtime import Sandbox, state_entry
from reconciler.sandbox.state import CURRENT_MODELS, AudioInfo, CloneRecord
from reconciler.sandbox.wire import error_response


async def _json_object(request: Request) -> dict[str, Any] | JSONResponse:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "body must be a JSON object")
    if body is None:
        return {}
    if not isinstance(body, dict):
        return error_response(400, "body must be a JSON object")
    return body


async def hook_state(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.state_view())


async def _changed_config(
    request: Request, change: Callable[[dict[str, Any]], SandboxConfig]
) -> SandboxConfig | Response:
    """Apply the JSON body with ``change``; a 400 if the body or the config is bad."""
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    try:
        return change(body)
    except ValidationError as exc:
        return error_response(400, describe_validation_error(exc))


async def hook_reset(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    config = await _changed_config(request, sandbox.reset)
    if isinstance(config, Response):
        return config
    return JSONResponse({"config": config.public()})


async def hook_config(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "GET":
        return JSONResponse(sandbox.config.public())
    config = await _changed_config(request, sandbox.update_config)
    if isinstance(config, Response):
        return config
    return JSONResponse(config.public())


async def hook_hold(request: Request) -> Response:
    """``POST /_sandbox/hold {"hold": true|false}``: hold admitted /waves requests at
    the gate (they keep their place against the concurrency limit) or let them go;
    ``"path": "/waves/v1/tts"`` and/or ``"method": "DELETE"`` hold only those requests.
    ``GET /_sandbox/stats`` counts the waiting ones in ``held_now``; a reset lets go."""
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    hold, path, method = body.get("hold"), body.get("path"), body.get("method")
    if not isinstance(hold, bool):
        return error_response(400, 'body must be {"hold": true} or {"hold": false}')
    if not all(v is None or isinstance(v, str) for v in (path, method)):
        return error_response(400, "path and method must be strings")
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.hold(hold, path, method)
    return JSONResponse({"hold": sandbox.holding, "held_now": sandbox.stats.held})


async def hook_stats(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.stats.snapshot())


async def hook_stats_reset(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.stats.reset()
    return JSONResponse(sandbox.stats.snapshot())


async def hook_sample(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    voice_id = request.path_params["voice_id"]
    number = request.path_params["n"]
    if sandbox.store.find(voice_id) is None or not 1 <= number <= len(SAMPLE_TEXTS):
        return error_response(404, "Not found")
    if wav.voice_fraction(voice_id) < sandbox.config.empty_sample_rate:
        return Response(wav.near_empty_wav(), media_type="audio/wav")
    audio = wav.tone_wav(1.5, frequency=wav.voice_frequency(voice_id) + 20 * (number - 1))
    return Response(audio, media_type="audio/wav")


_EDITABLE = {
    "displayName": "display_name",
    "description": "description",
    "accent": "accent",
    "language": "language",
    "tags": "tags",
}
_NOW = ("ready", "listed")  # ``true``: end the clone's processing / list lag now
_COUNTS = {"skipLists": "skip_lists"}  # a count of lists that leave the clone out


async def hook_edit_clone(request: Request) -> Response:
    """``PATCH /_sandbox/clones/{voiceId}``: edit a clone's metadata in place, as the
    dashboard can (the API cannot), so tests can change a clone behind voicectl's back.

    Body: any of ``displayName`` (non-empty string), ``description``, ``accent``,
    ``language`` (string or null), ``tags`` (list of strings, or one comma-separated
    string); and ``ready: true`` (its processing ends now) or ``listed: true`` (its list
    lag ends now), so a test moves a clone on by an event instead of waiting out a
    duration; ``skipLists: N`` leaves it out of the next N lists of its organisation (a
    list that drops an entry for a moment, then shows it again). Answers the clone as
    ``GET /_sandbox/state`` shows it.
    """
    sandbox: Sandbox = request.app.state.sandbox
    found = sandbox.store.find(request.path_params["voice_id"])
    if found is None:
        return error_response(404, "Not found")
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    unknown = sorted(set(body) - set(_EDITABLE) - set(_NOW) - set(_COUNTS))
    if unknown:
        editable = ", ".join((*_EDITABLE, *_NOW, *_COUNTS))
        return error_response(400, f"cannot edit {', '.join(unknown)}; editable: {editable}")
    changes: dict[str, Any] = {}
    now_epoch, now_mono = time.time(), time.monotonic()
    for key, value in body.items():
        if key in _COUNTS:
            if type(value) is not int or not 0 <= value <= 1000:
                return error_response(400, f"{key} must be a whole number from 0 to 1000")
            changes[_COUNTS[key]] = value
            continue
        if key in _NOW:
            if value is not True:
                return error_response(400, f"{key} can only be set to true")
            changes[f"{key}_epoch"], changes[f"{key}_mono"] = now_epoch, now_mono
            continue
        if key == "tags":
            if isinstance(value, str):
                value = [t.strip() for t in value.split(",") if t.strip()]
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                return error_response(
                    400, "tags must be a list of strings or one comma-separated string"
                )
        elif key == "displayName":
            if not isinstance(value, str) or not value:
                return error_response(400, "displayName must be a non-empty string")
        elif value is not None and not isinstance(value, str):
            return error_response(400, f"{key} must be a string or null")
        changes[_EDITABLE[key]] = value
    _org, clone = found
    for attr, value in changes.items():
        setattr(clone, attr, value)
    sandbox.store.save()
    return JSONResponse(state_entry(clone, now_mono))


_SEED_TEXT = {
    "displayName": "display_name",
    "description": "description",
    "accent": "accent",
    "language": "language",
    "cloningType": "cloning_type",
}
SEED_STATUSES = ("completed", "failed", "processing")


def _seed_org(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return org_id_for_key(token)


async def hook_seed_clone(request: Request) -> Response:
    """``POST /_sandbox/clones``: put a clone of any kind into an organisation.

    The organisation is named by the ``Authorization: Bearer <key>`` header, as
    on ``/waves``; the JSON body is a clone as the list shows it: ``displayName``
    (required), ``modelIds`` (default ``["lightning-v3.1"]``; a list lacking every
    current model makes a legacy clone), ``tags`` (list or comma-separated
    string), ``status`` (``completed``, ``failed`` or ``processing``: the last
    stays so), ``language``, ``description``, ``accent``, ``cloningType``.
    Answers the clone as ``GET /waves/v1/voice-cloning`` lists it. Nothing is
    counted as a create in the statistics.
    """
    sandbox: Sandbox = request.app.state.sandbox
    org_id = _seed_org(request)
    if org_id is None:
        return error_response(401, "send the organisation's 'Authorization: Bearer <key>'")
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    known = {*_SEED_TEXT, "modelIds", "tags", "status"}
    unknown = sorted(set(body) - known)
    if unknown:
        return error_response(
            400, f"unknown clone fields {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    name = body.get("displayName")
    if not isinstance(name, str) or not name:
        return error_response(400, "displayName must be a non-empty string")
    fields: dict[str, Any] = {}
    for key, attr in _SEED_TEXT.items():
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            return error_response(400, f"{key} must be a string or null")
        if value is not None:
            fields[attr] = value
    models = body.get("modelIds", ["lightning-v3.1"])
    if isinstance(models, str):
        models = [models]
    if (
        not isinstance(models, list)
        or not models
        or not all(isinstance(m, str) and m for m in models)
    ):
        return error_response(400, "modelIds must be a non-empty list of strings")
    tags = body.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return error_response(400, "tags must be a list of strings or one comma-separated string")
    status = body.get("status", "completed")
    if status not in SEED_STATUSES:
        return error_response(400, f"status must be one of {', '.join(SEED_STATUSES)}")
    now_epoch, now_mono = time.time(), time.monotonic()
    never = now_epoch + 10 * 365 * 86_400.0
    clone = CloneRecord(
        record_id=sandbox.store.new_record_id(),
        voice_id=sandbox.store.new_voice_id(),
        model_ids=list(models),
        created_epoch=now_epoch,
        ready_epoch=never if status == "processing" else now_epoch,
        outcome="failed" if status == "failed" else "completed",
        listed_epoch=now_epoch,
        audio=AudioInfo(filename="seeded", size=0, sha256="", content_type=""),
        legacy=not set(models) & set(CURRENT_MODELS),
        tags=list(tags),
        **fields,
    )
    clone.anchor(now_epoch, now_mono)
    sandbox.store.add(org_id, clone)
    return JSONResponse(list_entry(clone, now_mono, str(request.base_url), org_id))
