"""The sandbox's PATCH /_sandbox/clones/{voiceId} hook: edit a clone behind voicectl's back.

The real service's dashboard can rename a clone or change its tags; the API
cannot. Drift tests use this hook to do the same to the emulator.
"""

from __future__ import annotations

import pytest
from sandbox_support import CLONES, asgi_client, multipart

pytestmark = pytest.mark.anyio


async def _make(client) -> str:
    r = await client.post(CLONES, **multipart("Alpha", language="en", tags="a, b"))
    assert r.status_code == 200, r.text
    return r.json()["data"]["voiceId"]


async def test_edit_changes_what_the_list_shows(sandbox_app):
    app = sandbox_app(processing_seconds=0)
    async with asgi_client(app) as client:
        voice_id = await _make(client)
        r = await client.patch(
            f"/_sandbox/clones/{voice_id}",
            json={"displayName": "Renamed", "tags": "x, y", "accent": None, "language": "hi"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["displayName"] == "Renamed"
        (listed,) = (await client.get(CLONES)).json()["data"]
    assert listed["voiceId"] == voice_id
    assert listed["displayName"] == "Renamed"
    assert listed["tags"] == ["x", "y"]
    assert listed["accent"] is None and listed["language"] == "hi"


async def test_ready_and_listed_end_processing_and_list_lag_now(sandbox_app):
    app = sandbox_app(processing_seconds=3600, list_lag_ms=3_600_000)
    async with asgi_client(app) as client:
        voice_id = await _make(client)
        assert (await client.get(CLONES)).json()["data"] == []
        r = await client.patch(f"/_sandbox/clones/{voice_id}", json={"listed": True})
        assert r.status_code == 200 and r.json()["status"] == "processing"
        (listed,) = (await client.get(CLONES)).json()["data"]
        assert listed["status"] == "processing"
        r = await client.patch(f"/_sandbox/clones/{voice_id}", json={"ready": True})
        assert r.json()["status"] == "completed"
        (listed,) = (await client.get(CLONES)).json()["data"]
    assert listed["voiceId"] == voice_id and listed["status"] == "completed"


@pytest.mark.parametrize(
    "body, message",
    [
        ({"voiceId": "voice_x"}, "cannot edit voiceId"),
        ({"displayName": ""}, "displayName must be a non-empty string"),
        ({"tags": [1, 2]}, "tags must be a list of strings"),
        ({"description": 3}, "description must be a string or null"),
        ({"ready": False}, "ready can only be set to true"),
    ],
)
async def test_bad_edits_are_refused(sandbox_app, body, message):
    app = sandbox_app()
    async with asgi_client(app) as client:
        voice_id = await _make(client)
        r = await client.patch(f"/_sandbox/clones/{voice_id}", json=body)
    assert r.status_code == 400
    assert message in r.json()["error"]


async def test_unknown_clone_is_404_and_needs_no_key(sandbox_app):
    async with asgi_client(sandbox_app(), key=None) as client:
        r = await client.patch("/_sandbox/clones/voice_nope", json={"displayName": "x"})
    assert r.status_code == 404


@pytest.mark.e2e
def test_edit_over_a_real_socket_persists_in_the_state(sandbox_server):
    with sandbox_server.client() as http:
        r = http.post(CLONES, **multipart("Alpha", language="en"))
        voice_id = r.json()["data"]["voiceId"]
        r = http.patch(f"/_sandbox/clones/{voice_id}", json={"description": "edited"})
        r.raise_for_status()
    (clone,) = sandbox_server.clones()
    assert clone["description"] == "edited"
