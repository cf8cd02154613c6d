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

from reconciler.sandbox.forms import clone_from_form, optional_text
from reconciler.sandbox.sandbox import Sandbox
from reconciler.sandbox.state import CURRENT_MODEL, CloneRecord
from reconciler.sandbox.wire import ORG_KEY, error_response

SUPPORTED_LANGUAGES = (
    "auto", "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or",
    "es", "de", "fr", "it", "nl", "sv", "pt", "ru", "multi",
)
DEPRECATED_MODEL_MESSAGE = "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"
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


def _list_entry(clone: CloneRecord, now: float, base_url: str, org_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"_id": clone.record_id, "voiceId": clone.voice_id,
                             "displayName": clone.display_name, "organizationId": org_id}
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


def _create_options(form: FormData) -> dict[str, Any] | JSONResponse:
    """The create's own fields: model, language, tags, description, accent."""
    model = optional_text(form, "model") or CURRENT_MODEL
    if model == "lightning-v2":
        return error_response(400, DEPRECATED_MODEL_MESSAGE)
    if model != CURRENT_MODEL:
        return error_response(400, f"Unsupported model '{model}'. Please use {CURRENT_MODEL}")
    language = optional_text(form, "language")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        return error_response(
            400,
            f"Unsupported language '{language}' for {CURRENT_MODEL}. "
            f"Supported: {', '.join(SUPPORTED_LANGUAGES)}",
        )
    tags = [
        piece.strip()
        for value in form.getlist("tags") if isinstance(value, str)
        for piece in value.split(",") if piece.strip()
    ]
    return {
        "model_ids": [model], "legacy": False,
        "description": optional_text(form, "description"),
        "accent": optional_text(form, "accent"), "tags": tags, "language": language,
    }


async def create_clone(request: Request) -> Response:
    clone = await clone_from_form(request, _create_options)
    if isinstance(clone, Response):
        return clone
    model = clone.model_ids[0]
    base_url = str(request.base_url)
    return JSONResponse({
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
    })


async def list_clones(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    org = sandbox.store.org(request.scope[ORG_KEY])
    query = request.query_params
    wanted_models = {
        piece.strip() for value in query.getlist("modelIds") for piece in value.split(",")
        if piece.strip()
    }
    now = time.monotonic()
    base_url = str(request.base_url)
    entries = []
    for clone in org.clones.values():
        if not clone.listed(now):
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
        entries.append(_list_entry(clone, now, base_url, org.org_id))
    return JSONResponse({"data": entries})


async def delete_clone(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "Request body must be JSON: {\"voiceId\": \"...\"}")
    voice_id = body.get("voiceId") if isinstance(body, dict) else None
    if not isinstance(voice_id, str) or not voice_id:
        return error_response(400, "voiceId is required")
    org_id = request.scope[ORG_KEY]
    if sandbox.store.remove(org_id, voice_id) is None:
        return error_response(400, "Invalid voice id")
    sandbox.stats.clones_deleted += 1
    return JSONResponse({"success": True, "voiceId": voice_id})
