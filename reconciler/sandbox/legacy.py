"""The deprecated lightning-large endpoints: ``add_voice`` and ``get_cloned_voices``.

``add_voice`` takes the same form as the current create (read by
:mod:`reconciler.sandbox.forms`) but makes a clone that works only on
lightning-large; ``get_cloned_voices`` lists only such legacy clones, in the old
shape. With ``legacy_routes: gone`` both answer 410 ``MODEL_DEPRECATED``, as the
provider's changelog of 2026-05-19 says; legacy clones still list.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import profiles
from reconciler.sandbox.forms import clone_from_form
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.state import LEGACY_MODEL
from reconciler.sandbox.wire import ORG_KEY


def gone(request: Request) -> Response | None:
    """The 410 of a retired legacy route, or None while the routes live."""
    sandbox: Sandbox = request.app.state.sandbox
    if sandbox.config.behaviour.legacy_routes == "gone":
        return JSONResponse(profiles.LEGACY_GONE, status_code=410)
    return None


async def add_voice(request: Request) -> Response:
    """The deprecated endpoint: a clone that works only on lightning-large."""
    retired = gone(request)
    if retired is not None:
        return retired
    clone = await clone_from_form(
        request, lambda _form: {"model_ids": [LEGACY_MODEL], "legacy": True}
    )
    if isinstance(clone, Response):
        return clone
    return JSONResponse(
        {
            "message": "Voice added successfully",
            "data": {"voiceId": clone.voice_id, "model": LEGACY_MODEL, "status": clone.status()},
        }
    )


async def get_cloned_voices(request: Request) -> Response:
    retired = gone(request)
    if retired is not None:
        return retired
    sandbox: Sandbox = request.app.state.sandbox
    org = sandbox.store.org(request.scope[ORG_KEY])
    now = time.monotonic()
    voices = [
        {
            "displayName": c.display_name,
            "accent": c.accent,
            "tags": list(c.tags),
            "voiceId": c.voice_id,
            "model": LEGACY_MODEL,
            "status": c.status(now),
            "createdAt": c.created_at,
        }
        for c in org.clones.values()
        if c.legacy and c.listed(now)
    ]
    return JSONResponse({"voices": voices})
