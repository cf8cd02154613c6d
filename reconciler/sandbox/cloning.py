"""The current voice-cloning endpoints: create, list and delete.

``POST /waves/v1/voice-cloning`` makes a lightning-v3.1 clone (the form is read
by :mod:`reconciler.sandbox.forms`), ``GET`` lists the organisation's clones with
the optional filters, and ``DELETE /waves/v1/lightning-large`` deletes a clone of
any model. The answer shapes (list entries, sample URLs, the model ``_id``) are
built here too, since only these endpoints show them.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler import languages
from reconciler.sandbox import profiles
from reconciler.sandbox.forms import clone_from_form, optional_text
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.state import CURRENT_MODEL, CloneRecord
from reconciler.sandbox.wire import ORG_KEY, error_response

# What lightning-v3.1 accepts (the shared table; Pro's is languages.accepted(PRO)).
SUPPORTED_LANGUAGES = languages.accepted(languages.V31)
DEPRECATED_MODEL_MESSAGE = "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"
SUPPORTED_MODELS_MESSAGE = "Supported models: " + ", ".join(languages.CLONE_MODELS)
SAMPLE_TEXTS = (
    "Hello! This is a sample of your new voice, made by the Waves sandbox.",
    "The quick brown fox jumps over the lazy dog while the sandbox hums a tone.",
)


def model_object_id(model: str) -> str:
    """A stable 24-hex ``_id`` for a model name (the create response's ``model._id``)."""
    return hashlib.sha256(b"voicectl-sandbox-model:" + model.encode()).hexdigest()[:24]


def samples(clone: CloneRecord, base_url: str) -> list[dict[str, str]]:
    return [
        {"text": text, "audioUrl": f"{base_url}_sandbox/samples/{clone.voice_id}/{n}.wav"}
        for n, text in enumerate(SAMPLE_TEXTS, start=1)
    ]


def list_entry(
    clone: CloneRecord, now: float, base_url: str, org_id: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "_id": clone.record_id,
        "voiceId": clone.voice_id,
        "displayName": clone.display_name,
    }
    if org_id is not None:  # the organisation the clone lives in (as the create answer)
        entry["organizationId"] = org_id
    if not clone.legacy:
        entry.update(description=clone.description, accent=clone.accent)
    entry["tags"] = list(clone.tags)
    if not clone.legacy:
        entry["language"] = clone.language
    entry.update(
        status=clone.status(now),
        cloningType=clone.cloning_type,
        modelIds=list(clone.model_ids),
        createdAt=clone.created_at,
        samples=samples(clone, base_url),
    )
    return entry


def create_models(sandbox: Sandbox) -> tuple[str, ...]:
    """The models a create accepts in the sandbox's current world."""
    if sandbox.config.behaviour.pro_model:
        return languages.CLONE_MODELS
    return (CURRENT_MODEL,)


def model_error(sandbox: Sandbox, model: str) -> JSONResponse | None:
    """The 400 for a model the create does not accept (the service's wording), or None."""
    if model in languages.DEPRECATED_MODELS:
        return error_response(400, DEPRECATED_MODEL_MESSAGE)
    allowed = create_models(sandbox)
    if model in allowed:
        return None
    if len(allowed) > 1:
        return error_response(400, SUPPORTED_MODELS_MESSAGE)
    return error_response(400, f"Unsupported model '{model}'. Please use {CURRENT_MODEL}")


def _create_options(sandbox: Sandbox, form: FormData) -> dict[str, Any] | JSONResponse:
    """The create's own fields: model, language, tags, description, accent."""
    model = optional_text(form, "model") or CURRENT_MODEL
    problem = model_error(sandbox, model)
    if problem is not None:
        return problem
    language = optional_text(form, "language")
    if language is not None and not languages.is_accepted(language, model):
        return error_response(400, languages.refusal(language, model))
    tags = [
        piece.strip()
        for value in form.getlist("tags")
        if isinstance(value, str)
        for piece in value.split(",")
        if piece.strip()
    ]
    return {
        "model_ids": [model],
        "legacy": False,
        "description": optional_text(form, "description"),
        "accent": optional_text(form, "accent"),
        "tags": tags,
        "language": language,
    }


async def create_clone(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    clone = await clone_from_form(request, lambda form: _create_options(sandbox, form))
    if isinstance(clone, Response):
        return clone
    model = clone.model_ids[0]
    base_url = str(request.base_url)
    return JSONResponse(
        {
            "message": "Voice clone created successfully",
            "data": {
                "voiceId": clone.voice_id,
                "displayName": clone.display_name,
                "status": clone.status(),
                "language": clone.language,
                "model": {"_id": model_object_id(model), "modelName": model},
                "audioFileNames": [clone.audio.filename],
                "createdAt": clone.created_at,
                "organizationId": request.scope[ORG_KEY],
                "samples": samples(clone, base_url),
            },
        }
    )


async def list_clones(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    config = sandbox.config
    if not await sandbox.list_barrier.wait(config.list_barrier, config.list_barrier_timeout):
        return error_response(
            400, f"list barrier: {config.list_barrier} lists were never in flight together"
        )
    org = sandbox.store.org(request.scope[ORG_KEY])
    query = request.query_params
    wanted_models = {
        piece.strip()
        for value in query.getlist("modelIds")
        for piece in value.split(",")
        if piece.strip()
    }
    now = time.monotonic()
    base_url = str(request.base_url)
    entries = []
    for clone in org.clones.values():
        if not clone.listed(now):
            continue
        if clone.skip_lists > 0:  # dropped from this list (hooks.hook_edit_clone)
            clone.skip_lists -= 1
            continue
        if wanted_models and not wanted_models.intersection(clone.model_ids):
            continue
        if "cloningType" in query and clone.cloning_type != query["cloningType"]:
            continue
        if "_id" in query and clone.record_id != query["_id"]:
            continue
        if "voiceId" in query and clone.voice_id != query["voiceId"]:
            continue
        if "status" in query and clone.status(now) != query["status"]:
            continue
        entries.append(list_entry(clone, now, base_url, org.org_id))
    size = config.list_page_size
    if size and len(entries) > size:  # a paging API: the first page only
        return JSONResponse(
            {"data": entries[:size], "hasMore": True, "total": len(entries), "page": 1}
        )
    return JSONResponse({"data": entries})


async def _delete_body(request: Request) -> str | Response:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return error_response(400, 'Request body must be JSON: {"voiceId": "..."}')
    voice_id = body.get("voiceId") if isinstance(body, dict) else None
    if not isinstance(voice_id, str) or not voice_id:
        return error_response(400, "voiceId is required")
    return voice_id


def _remove(request: Request, voice_id: str) -> bool:
    sandbox: Sandbox = request.app.state.sandbox
    if sandbox.store.remove(request.scope[ORG_KEY], voice_id) is None:
        return False
    sandbox.stats.clones_deleted += 1
    return True


async def delete_clone(request: Request) -> Response:
    """``DELETE /waves/v1/lightning-large``: the seed's delete, 410 once retired."""
    sandbox: Sandbox = request.app.state.sandbox
    if not sandbox.config.behaviour.old_delete_works:
        return JSONResponse(profiles.OLD_DELETE_GONE, status_code=410)
    voice_id = await _delete_body(request)
    if isinstance(voice_id, Response):
        return voice_id
    if not _remove(request, voice_id):
        return error_response(400, "Invalid voice id")
    return JSONResponse({"success": True, "voiceId": voice_id})


async def delete_clone_v2(request: Request) -> Response:
    """``POST /waves/v1/voice-cloning/delete``: the announced successor.

    Absent in the seed's world (404), refusing API keys (401) until the service
    accepts them, deleting once ``delete_route`` is ``voice-cloning``.
    """
    sandbox: Sandbox = request.app.state.sandbox
    behaviour = sandbox.config.behaviour
    if not behaviour.new_delete_exists:
        return error_response(404, "Not Found")
    if not behaviour.new_delete_works:
        return error_response(401, profiles.NEW_DELETE_REFUSED)
    voice_id = await _delete_body(request)
    if isinstance(voice_id, Response):
        return voice_id
    if not _remove(request, voice_id):
        return error_response(400, "Invalid voice id")
    return JSONResponse(
        {"success": True, "voiceId": voice_id, "organizationId": request.scope[ORG_KEY]}
    )
