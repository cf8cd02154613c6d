"""The emulator held against the real Waves API: skipped unless VOICECTL_LIVE_API_KEY is set.

Never runs in CI here (no key, no internet). Whoever has a key runs it with one
command (see the README, "Holding the emulator against reality")::

    VOICECTL_LIVE_API_KEY=sk-... .venv/bin/python -m pytest tests/e2e/test_live_contract.py -v

Against the real service (``VOICECTL_LIVE_API_URL``, default the client's) it
runs doctor, creates ONE clone from the bundled sample ``examples/narrator.wav``,
lists it, speaks with it, and deletes it (or, when no delete route works for the
key, hands it off: the test prints its voiceId so you can delete it in the
dashboard). The same requests are sent to the emulator in the world doctor found
(``seed`` or ``current``), and every answer's shape (its keys and their JSON
types) must agree: each key the emulator sends must be in the real answer with
the same type.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api import DeleteUnavailableError, WavesClient
from reconciler.api.client import DEFAULT_API_URL
from reconciler.engine.doctor import diagnose
from reconciler.sandbox.app import create_app
from reconciler.sandbox.config import SandboxConfig

KEY = os.environ.get("VOICECTL_LIVE_API_KEY")
pytestmark = [
    pytest.mark.skipif(
        not KEY, reason="set VOICECTL_LIVE_API_KEY to hold the emulator against the real service"
    ),
    pytest.mark.live,
]
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "narrator.wav"
CLONES = "/waves/v1/voice-cloning"
TTS = "/waves/v1/tts"


def shape(value: Any) -> Any:
    """A JSON value's shape: dict keys to shapes, a list to its first item's, else a type."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "null" if value is None else type(value).__name__


def assert_covers(real: Any, emulated: Any, where: str) -> None:
    """Every key the emulator sends is in the real answer, with the same type (a null on
    either side matches anything: optional fields)."""
    if "null" in (real, emulated):
        return
    if isinstance(emulated, dict):
        assert isinstance(real, dict), f"{where}: the service sent {real}, not an object"
        for key, sub in emulated.items():
            assert key in real, f"{where}.{key}: the emulator sends it, the service does not"
            assert_covers(real[key], sub, f"{where}.{key}")
    elif isinstance(emulated, list):
        assert isinstance(real, list), f"{where}: the service sent {real}, not a list"
        if emulated and real:
            assert_covers(real[0], emulated[0], f"{where}[0]")
    else:
        numbers = {"int", "float"}
        same = real == emulated or {real, emulated} <= numbers
        assert same, f"{where}: the service sends {real}, the emulator {emulated}"


async def exchange(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """The raw answers of one create, one list and one TTS request."""
    answers: dict[str, Any] = {}
    with SAMPLE.open("rb") as fh:
        made = await http.post(
            CLONES,
            data={"displayName": name, "language": "en", "tags": "voicectl-contract-test"},
            files={"file": (SAMPLE.name, fh, "audio/wav")},
        )
    assert made.status_code == 200, made.text
    answers["create"] = made.json()
    voice_id = answers["create"]["data"]["voiceId"]
    for _ in range(60):  # until it is listed and completed (the service may take a while)
        listed = await http.get(CLONES)
        assert listed.status_code == 200, listed.text
        entry = next((c for c in listed.json()["data"] if c.get("voiceId") == voice_id), None)
        if entry is not None and entry.get("status") in ("completed", "failed"):
            break
        await asyncio.sleep(2)
    assert entry is not None, "the new clone never appeared in the list"
    answers["list entry"] = entry
    speech = await http.post(
        TTS,
        json={
            "text": "Hello there.",
            "voice_id": voice_id,
            "model": "lightning_v3.1",
            "sample_rate": 24000,
            "output_format": "wav",
        },
        headers={"Accept": "audio/wav"},
    )
    assert speech.status_code == 200, speech.text[:200]
    assert speech.content[:4] == b"RIFF"
    unknown = await http.post(
        TTS,
        json={"text": "Hi", "voice_id": "voice_nope", "model": "lightning_v3.1"},
        headers={"Accept": "audio/wav"},
    )
    answers["tts unknown voice"] = {"status": unknown.status_code, **unknown.json()}
    answers["voiceId"] = voice_id
    return answers


def test_the_emulator_answers_like_the_service() -> None:
    url = os.environ.get("VOICECTL_LIVE_API_URL", DEFAULT_API_URL)
    name = f"voicectl-contract-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with WavesClient(base_url=url, api_key=KEY) as client:
            report = await diagnose(client)
            assert report.ok, [f.to_json() for f in report.findings]
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as live:
            real = await exchange(live, name)
        profile = "current" if report.world in ("current", "mixed") else "seed"
        app = create_app(SandboxConfig(profile=profile))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=headers
        ) as emu:
            emulated = await exchange(emu, name)
        try:
            for part in ("create", "list entry", "tts unknown voice"):
                assert_covers(shape(real[part]), shape(emulated[part]), part)
        finally:
            async with WavesClient(base_url=url, api_key=KEY) as client:
                try:
                    await client.delete_clone(real["voiceId"])
                except DeleteUnavailableError as exc:
                    print(
                        f"\nHAND-OFF: delete {real['voiceId']} ({name}) in the dashboard: "
                        f"{exc.reason}"
                    )

    asyncio.run(main())
