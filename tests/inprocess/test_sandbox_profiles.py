"""The sandbox plays every API world: the ``seed`` and ``current`` profiles and
the single behaviours (delete route, legacy routes, Pro model, TTS ``Accept``),
set at start or changed at run time; clones seeded when ``add_voice`` is gone;
and the one language table the manifest and the emulator share.

In-process (``httpx.ASGITransport``) like ``test_sandbox_api.py``.
"""

from __future__ import annotations

import httpx
import pytest
from sandbox_support import (
    ADD_VOICE,
    CLONES,
    DELETE,
    DELETE_V2,
    KEY,
    LEGACY_LIST,
    TTS,
    asgi_client,
    auth,
    multipart,
)

from reconciler import languages

pytestmark = pytest.mark.anyio

DEPRECATED_KEYS = {"status", "error_code", "message", "recommended_endpoint"}


async def make(client: httpx.AsyncClient, name: str = "Narrator", **fields) -> dict:
    response = await client.post(CLONES, **multipart(name, **fields))
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def seed(client: httpx.AsyncClient, key: str = KEY, **clone) -> httpx.Response:
    return await client.post("/_sandbox/clones", json=clone, headers=auth(key))


async def speak(
    client: httpx.AsyncClient,
    voice_id: str,
    model: str = "lightning_v3.1",
    accept: str | None = "audio/wav",
    **extra,
) -> httpx.Response:
    headers = {"Accept": accept} if accept else {"Accept": "*/*"}
    return await client.post(
        TTS,
        json={"text": "Hello there", "voice_id": voice_id, "model": model, **extra},
        headers=headers,
    )


async def test_seed_profile_is_the_seed_page(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as client:
        voice = await make(client)
        response = await client.request("DELETE", DELETE, json={"voiceId": voice["voiceId"]})
        assert response.json() == {"success": True, "voiceId": voice["voiceId"]}
        assert (await client.post(DELETE_V2, json={"voiceId": "voice_x"})).status_code == 404
        assert (await client.post(ADD_VOICE, **multipart("Old"))).status_code == 200
        assert (await client.get(LEGACY_LIST)).status_code == 200
        refused = await client.post(CLONES, **multipart("P", model="lightning-v3.1-pro"))
        assert refused.status_code == 400 and "lightning-v3.1" in refused.json()["error"]
        legacy = (await client.get(CLONES)).json()["data"][0]
        plain = await client.post(TTS, json={"text": "Hi", "voice_id": legacy["voiceId"]})
        assert plain.status_code == 200 and plain.content[:4] == b"RIFF"  # no Accept needed
    assert app.state.sandbox.stats.clones_deleted == 1


async def test_current_profile_retires_deletes_and_legacy_routes(sandbox_app) -> None:
    app = sandbox_app(profile="current")
    async with asgi_client(app) as client:
        voice = await make(client)
        old = await client.request("DELETE", DELETE, json={"voiceId": voice["voiceId"]})
        assert old.status_code == 410
        body = old.json()
        assert set(body) == DEPRECATED_KEYS and body["error_code"] == "MODEL_DEPRECATED"
        assert body["status"] == "error" and body["recommended_endpoint"].endswith(DELETE_V2)
        new = await client.post(DELETE_V2, json={"voiceId": voice["voiceId"]})
        assert new.status_code == 401 and isinstance(new.json()["error"], str)
        for response in (
            await client.post(ADD_VOICE, **multipart("Old")),
            await client.get(LEGACY_LIST),
        ):
            assert response.status_code == 410
            assert response.json()["error_code"] == "MODEL_DEPRECATED"
        assert [c["voiceId"] for c in (await client.get(CLONES)).json()["data"]] == [
            voice["voiceId"]
        ]
    assert app.state.sandbox.stats.clones_deleted == 0
    assert app.state.sandbox.stats.clones_created == 1


async def test_delete_route_changes_at_run_time(sandbox_app) -> None:
    app = sandbox_app(profile="current")
    async with asgi_client(app) as client:
        a, b = await make(client, "A"), await make(client, "B")
        answer = await client.post("/_sandbox/config", json={"delete_route": "voice-cloning"})
        assert answer.json()["behaviour"]["delete_route"] == "voice-cloning"
        new = await client.post(DELETE_V2, json={"voiceId": a["voiceId"]})
        assert new.status_code == 200
        assert new.json()["success"] is True and new.json()["voiceId"] == a["voiceId"]
        assert isinstance(new.json()["organizationId"], str)
        again = await client.post(DELETE_V2, json={"voiceId": a["voiceId"]})
        assert again.status_code == 400
        assert (
            await client.request("DELETE", DELETE, json={"voiceId": b["voiceId"]})
        ).status_code == 410
        await client.post("/_sandbox/config", json={"delete_route": "lightning-large"})
        assert (
            await client.request("DELETE", DELETE, json={"voiceId": b["voiceId"]})
        ).status_code == 200
        assert (await client.post(DELETE_V2, json={"voiceId": b["voiceId"]})).status_code == 404
        bad = await client.post("/_sandbox/config", json={"delete_route": "sideways"})
        assert bad.status_code == 400 and "delete_route" in bad.json()["error"]
        gone = await client.post(
            "/_sandbox/config", json={"profile": "seed", "legacy_routes": "gone"}
        )
        assert gone.json()["behaviour"]["legacy_routes"] == "gone"
        assert (await client.get(LEGACY_LIST)).status_code == 410
    assert app.state.sandbox.stats.clones_deleted == 2


async def test_pro_clones_in_the_current_world(sandbox_app) -> None:
    async with asgi_client(sandbox_app(profile="current")) as client:
        pro = await make(client, "Pro", model="lightning-v3.1-pro", language="ja")
        assert pro["model"]["modelName"] == "lightning-v3.1-pro"
        listed = (await client.get(CLONES)).json()["data"][0]
        assert listed["modelIds"] == ["lightning-v3.1-pro"]
        for model, message in (
            ("lightning-v2", "Voice cloning for lightning-v2 is deprecated"),
            ("lightning-v9", "Supported models: lightning-v3.1, lightning-v3.1-pro"),
        ):
            response = await client.post(CLONES, **multipart("X", model=model))
            assert response.status_code == 400 and message in response.json()["error"]
        ja = await client.post(CLONES, **multipart("X", language="ja"))
        assert ja.status_code == 400
        assert ja.json()["error"].startswith(
            "Language 'ja' is not supported on the lightning_v3.1 model. Supported languages: "
        )
        # The model is checked before the file: a probe without audio makes nothing.
        probe = await client.post(CLONES, data={"displayName": "p", "model": "lightning-v3.1-pro"})
        assert probe.status_code == 400 and probe.json()["error"] == "No file provided"


async def test_tts_needs_accept_and_matching_model_in_current(sandbox_app) -> None:
    async with asgi_client(sandbox_app(profile="current")) as client:
        v31 = await make(client, "V", language="en")
        pro = await make(client, "P", model="lightning-v3.1-pro")
        empty = await speak(client, v31["voiceId"], accept=None)
        assert empty.status_code == 200 and empty.content == b""
        good = await speak(client, v31["voiceId"])
        assert good.content[:4] == b"RIFF" and len(good.content) > 2000
        assert len((await speak(client, pro["voiceId"], "lightning_v3.1_pro")).content) > 2000
        assert len((await speak(client, pro["voiceId"], "lightning_v3.1")).content) < 300
        unknown = await speak(client, "voice_nope")
        assert unknown.status_code == 400
        assert unknown.json() == {
            "error": [{"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}]
        }
        lang = await speak(client, v31["voiceId"], language="ko")
        assert lang.status_code == 400 and "lightning_v3.1 model" in lang.json()["error"]
        ok = await speak(client, pro["voiceId"], "lightning_v3.1_pro", language="ko")
        assert ok.status_code == 200


async def test_seeded_clones_of_every_kind(sandbox_app) -> None:
    app = sandbox_app(profile="current")
    async with asgi_client(app) as client:
        unauth = await client.post(
            "/_sandbox/clones", json={"displayName": "x"}, headers={"Authorization": ""}
        )
        assert unauth.status_code == 401
        legacy = await seed(client, displayName="Old", modelIds=["lightning-large"], tags="a, b")
        assert legacy.status_code == 200, legacy.text
        failed = (
            await seed(client, displayName="Bad", status="failed", modelIds=["lightning-v3.1-pro"])
        ).json()
        busy = (await seed(client, displayName="Busy", status="processing")).json()
        assert (await seed(client, displayName="X", status="weird")).status_code == 400
        assert (await seed(client, displayName="X", color="red")).status_code == 400
        listed = {c["displayName"]: c for c in (await client.get(CLONES)).json()["data"]}
        assert listed["Old"] == legacy.json()
        assert listed["Old"]["modelIds"] == ["lightning-large"]
        assert listed["Old"]["tags"] == ["a", "b"]
        assert listed["Bad"]["status"] == "failed" == failed["status"]
        assert listed["Busy"]["status"] == "processing" == busy["status"]
        other = await client.get(CLONES, headers=auth("sk-another-org"))
        assert other.json()["data"] == []
    assert app.state.sandbox.stats.clones_created == 0


@pytest.mark.parametrize("model", languages.CLONE_MODELS)
async def test_manifest_and_emulator_agree_on_every_language(sandbox_app, model) -> None:
    """By construction: a code the manifest takes without a warning (or with only a
    doubt) is accepted; a code it warns is unknown is refused, with the live wording."""
    codes = sorted({*languages.KNOWN_LANGUAGES, "pl", "he", "sw", "xx", "en-US"})
    async with asgi_client(sandbox_app(profile="current")) as client:
        for code in codes:
            warning = languages.language_warning(code, model)
            response = await client.post(CLONES, **multipart(code, model=model, language=code))
            doubt = warning is not None and "not known to be accepted" not in warning
            if warning is None or doubt:
                assert response.status_code == 200, (code, response.text)
            else:
                assert response.status_code == 400, (code, response.text)
                assert response.json()["error"] == languages.refusal(code, model)
    assert languages.language_warning("pl", "lightning-v3.1") is None
