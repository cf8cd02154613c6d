"""The key never shows: not in a log record (DEBUG included), an exception, or a repr.

Every kind of failure is provoked against the real sandbox with all loggers at
DEBUG (httpx's and httpcore's too), then everything that could be printed is
searched for the key.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from pathlib import Path

import pytest
from api_support import KEY, Sandbox, run, sandbox_fixture

from reconciler.api import CloneRequest, InsecureURLError, WavesClient, WavesError

pytestmark = pytest.mark.e2e

WAV = Path(__file__).parents[1] / "fixtures" / "audio" / "tone-6s.wav"

srv_fixture = sandbox_fixture()


def texts_of(exc: BaseException) -> list[str]:
    """Everything a user could be shown about an exception, causes included."""
    out = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for attr in ("cause", "__cause__", "__context__"):
        inner = getattr(exc, attr, None)
        if isinstance(inner, BaseException):
            out += [str(inner), repr(inner)]
    return out


def test_the_key_appears_nowhere(
    srv: Sandbox, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    errors: list[BaseException] = []
    reprs: list[str] = []

    async def attempt(coro) -> None:
        try:
            await coro
        except WavesError as exc:
            errors.append(exc)

    async def main() -> None:
        fast = {"backoff_base": 0.01, "backoff_cap": 0.02, "max_tries": 2}
        async with WavesClient(base_url=srv.url, api_key=KEY, **fast) as api:
            reprs.extend([repr(api), str(api), repr(api.limiter), repr(api.retry_policy)])
            made = await api.create_clone(CloneRequest(display_name="Ok", file=WAV))
            await api.download(made.samples[0].audio_url, tmp_path / "s.wav")
            for kind in ("500", "502", "503", "drop", "truncate"):
                srv.config(fault_rate=1.0, fault_kinds=[kind])
                await attempt(api.list_clones())
                await attempt(api.create_clone(CloneRequest(display_name=kind, file=WAV)))
                await attempt(api.delete_clone(made.voice_id))
                await attempt(api.tts(made.voice_id, "hello"))
            srv.reset(ghost_rate=1.0)
            await attempt(api.create_clone(CloneRequest(display_name="ghost", file=WAV)))
            srv.reset(clone_limit=0)
            await attempt(api.create_clone(CloneRequest(display_name="limit", file=WAV)))
            await attempt(api.create_clone(CloneRequest(display_name="x", file=WAV, language="zz")))
            await attempt(api.delete_clone("voice_missing"))
            await attempt(api.tts("voice_missing", "hello"))
            srv.reset(concurrency_limit=1, latency_ms=300, retry_after=0.05)
            await asyncio.gather(*(attempt(api.list_clones()) for _ in range(4)))
            srv.reset(latency_ms=400)
        async with WavesClient(base_url=srv.url, api_key=KEY, timeout=0.1, **fast) as slow:
            await attempt(slow.list_clones())
            await attempt(slow.create_clone(CloneRequest(display_name="slow", file=WAV)))
        srv.reset(api_keys=["some-other-key"])
        async with WavesClient(base_url=srv.url, api_key=KEY, **fast) as refused:
            await attempt(refused.list_clones())
        async with WavesClient(base_url="http://127.0.0.1:9", api_key=KEY, **fast) as nowhere:
            await attempt(nowhere.list_clones())
            await attempt(nowhere.create_clone(CloneRequest(display_name="n", file=WAV)))
        try:
            WavesClient(base_url="http://api.smallest.ai", api_key=KEY)
        except InsecureURLError as exc:
            errors.append(exc)

    caplog.set_level(logging.DEBUG)  # the root logger: httpx, httpcore, ours
    run(main())

    kinds = {type(e).__name__ for e in errors}
    assert {
        "ServerError",
        "TransportError",
        "AmbiguousCreateError",
        "CloneLimitError",
        "BadRequestError",
        "NotFoundError",
        "AuthError",
        "InsecureURLError",
    } <= kinds
    assert len(errors) >= 25
    for exc in errors:
        for text in texts_of(exc):
            assert KEY not in text
            assert "\n" not in str(exc)  # one line
    for text in reprs:
        assert KEY not in text
    assert any(
        r.name.startswith("reconciler.api") and r.levelno == logging.DEBUG for r in caplog.records
    )
    assert any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in str(record.args)
        assert KEY not in (record.exc_text or "")
    assert KEY not in caplog.text
    captured = capsys.readouterr()
    assert KEY not in captured.out and KEY not in captured.err


def test_debug_lines_say_method_url_status_and_time(
    srv: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="reconciler.api")

    async def main() -> None:
        async with WavesClient(base_url=srv.url, api_key=KEY) as api:
            await api.list_clones()

    run(main())
    (line,) = [r.getMessage() for r in caplog.records if r.name == "reconciler.api"]
    assert line.startswith(f"GET {srv.url}/waves/v1/voice-cloning -> 200 in ")
    assert line.endswith("s (list clones, try 1)")
