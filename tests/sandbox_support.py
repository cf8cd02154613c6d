"""Helpers for tests that use the Waves sandbox (no tests here).

* :class:`SandboxServer` - ``python -m reconciler sandbox serve --port 0 ...`` as a
  real subprocess, with its ``/_sandbox`` hooks as methods;
* :func:`asgi_client` - an ``httpx.AsyncClient`` on the app in-process;
* :func:`write_wav` / :func:`wav_bytes` - real 16-bit mono WAVs made with ``wave``;
* :func:`multipart` - the create form, as the fact sheet spells its fields.

The fixtures built on these live in ``tests/conftest.py``.
"""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-sandbox-tests-0123456789"  # the default test API key (any key is accepted)
OTHER_KEY = "sk-sandbox-tests-other-org"
CLONES = "/waves/v1/voice-cloning"
DELETE = "/waves/v1/lightning-large"
DELETE_V2 = "/waves/v1/voice-cloning/delete"
ADD_VOICE = "/waves/v1/lightning-large/add_voice"
LEGACY_LIST = "/waves/v1/lightning-large/get_cloned_voices"
TTS = "/waves/v1/tts"
GET_SPEECH = "/waves/v1/lightning-v3.1/get_speech"
_LISTENING = re.compile(r"^Waves sandbox listening on (http://\S+)$")


def auth(key: str = KEY) -> dict[str, str]:
    """The Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def org_of(key: str = KEY) -> str:
    """The organisation id the sandbox derives from ``key``."""
    from reconciler.sandbox.config import org_id_for_key

    return org_id_for_key(key)


# --------------------------------------------------------------------------- audio


def wav_bytes(seconds: float = 8.0, freq: float = 440.0, rate: int = 16000) -> bytes:
    """A real 16-bit mono WAV that passes the sample quality checks as speech would.

    A pure tone is not speech (no pauses: its noise floor is its level), so the
    tone comes in syllables: 0.22 s bursts under a Hann envelope, 0.08 s apart,
    peaking at -8.7 dBFS (about -17 LUFS). Deterministic for its arguments.
    """
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    syllable, voiced = 0.3, 0.22
    phase = np.mod(t, syllable)
    envelope = np.where(phase < voiced, np.sin(np.pi * phase / voiced) ** 2, 0.0)
    signal = 12000 * envelope * np.sin(2.0 * np.pi * freq * t)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(signal).astype("<i2").tobytes())
    return buffer.getvalue()


def write_wav(
    path: Path,
    seconds: float = 8.0,
    freq: float = 440.0,
    rate: int = 16000,
    *,
    size: int | None = None,
) -> Path:
    """Write a real 16-bit mono WAV tone to ``path`` (parents created); returns ``path``.

    The suite's one WAV writer: ``freq=0`` is silence; ``size=N`` writes a valid WAV of
    exactly N bytes of silence instead (in chunks, so a big one costs no memory).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if size is None:
        path.write_bytes(wav_bytes(seconds, freq, rate))
        return path
    data_len = size - 44
    header = (
        b"RIFF"
        + struct.pack("<I", size - 8)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_len)
    )
    chunk = b"\x00" * (1 << 16)
    with open(path, "wb") as fh:
        fh.write(header)
        left = data_len
        while left > 0:
            fh.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path


_SMALL_WAV: bytes | None = None


def small_wav() -> bytes:
    """A cached 1-second WAV, for tests that only need some valid audio."""
    global _SMALL_WAV
    if _SMALL_WAV is None:
        _SMALL_WAV = wav_bytes(1.0, 440.0, 8000)
    return _SMALL_WAV


def multipart(
    display_name: str | None = "Narrator",
    *,
    audio: bytes | None = None,
    filename: str = "sample.wav",
    content_type: str = "audio/wav",
    **fields: str | None,
) -> dict[str, Any]:
    """``httpx`` keyword arguments (``data`` + ``files``) for a create or add_voice.

    ``fields`` are sent as they are named (``language="en"``, ``tags="a, b"``);
    ``None`` values are left out; ``audio=b""`` sends an empty file and
    ``content_type=None``-like omissions are done by passing ``files`` yourself.
    """
    data = {k: v for k, v in fields.items() if v is not None}
    if display_name is not None:
        data["displayName"] = display_name
    body = small_wav() if audio is None else audio
    return {"data": data, "files": {"file": (filename, body, content_type)}}


# --------------------------------------------------------------------------- waiting


SAFETY_SECONDS = 60.0  # only turns a condition that never comes into a failure


def until(condition: Any, what: str, *, safety: float = SAFETY_SECONDS) -> Any:
    """Wait for ``condition()`` to be truthy and return it (polling; the test waits for
    the event, however long it takes, instead of sleeping a guessed time)."""
    deadline = time.monotonic() + safety
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


async def until_async(condition: Any, what: str, *, safety: float = SAFETY_SECONDS) -> Any:
    """:func:`until` inside an event loop: the loop keeps running while it waits."""
    import asyncio

    deadline = time.monotonic() + safety
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- in-process


def asgi_client(app: Any, key: str | None = KEY, **kwargs: Any) -> httpx.AsyncClient:
    """An async client on the app in-process (``httpx.ASGITransport``), authorised as ``key``."""
    headers = auth(key) if key is not None else {}
    headers.update(kwargs.pop("headers", {}))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox.test",
        headers=headers,
        timeout=kwargs.pop("timeout", 30),
        **kwargs,
    )


# --------------------------------------------------------------------------- real server


class SandboxServer:
    """``voicectl sandbox serve --port 0 <flags>`` in a subprocess, and its hooks.

    ``url`` is the base URL (no trailing slash). The hooks raise for a non-2xx
    status. ``stdout_lines`` / ``stderr_text()`` hold what the process printed.
    """

    def __init__(
        self, *flags: str, env: dict[str, str] | None = None, startup_timeout: float = 30.0
    ) -> None:
        self.flags = tuple(flags)
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.stdout_lines: list[str] = []
        self._stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    # -- life --------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Start the process and wait for its 'listening on' line (again after a stop)."""
        self.stdout_lines, self._stderr, self._lines = [], [], queue.Queue()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_SANDBOX_")}
        env.update(self.extra_env)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *self.flags]
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise RuntimeError(f"the sandbox did not start in time: {self.stderr_text()}")
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.process.wait(5)
                raise RuntimeError(
                    f"the sandbox exited with {self.process.returncode}: {self.stderr_text()}"
                )
            match = _LISTENING.match(line)
            if match:
                self.url = match.group(1)
                return self

    def _pump_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    def stderr_text(self) -> str:
        return "".join(self._stderr)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait, return the exit status (SIGKILL if it does not stop in time)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL (a crash: no chance to clean up), wait, return the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(10)

    # -- hooks -------------------------------------------------------------------
    def _hook(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{name}", json=body, timeout=15)
        response.raise_for_status()
        return response.json()

    def config(self, **changes: Any) -> dict[str, Any]:
        """Change some settings now (``POST /_sandbox/config``); returns the full config."""
        return self._hook("POST", "config", changes)

    def reset(self, **config: Any) -> dict[str, Any]:
        """Drop clones and stats, reseed; config = startup flags + ``config``. Returns it.

        Then wait until no /waves request is still being answered: one a previous test
        gave up on (a client timeout against a latency) would otherwise keep an admitted
        place, and under ``concurrency_limit=1`` refuse every request of this test.
        """
        applied = self._hook("POST", "reset", config)["config"]
        until(
            lambda: not any(self.stats()["in_flight_now"].values()),
            "the requests of an earlier test to be answered",
        )
        return applied

    def stats(self) -> dict[str, Any]:
        return self._hook("GET", "stats")

    def hold(
        self, on: bool = True, path: str | None = None, method: str | None = None
    ) -> dict[str, Any]:
        """Hold admitted /waves requests (only ``method`` / ``path`` ones, if given) at the
        gate until ``hold(False)`` or a reset: requests overlap by an event, not a latency."""
        return self._hook("POST", "hold", {"hold": on, "path": path, "method": method})

    def release(self) -> dict[str, Any]:
        return self.hold(False)

    def reset_stats(self) -> dict[str, Any]:
        return self._hook("POST", "stats/reset")

    def state(self) -> dict[str, Any]:
        """``{"config": {...}, "orgs": {orgId: {"clones": [...]}}}``."""
        return self._hook("GET", "state")

    def seed_clone(self, key: str = KEY, **clone: Any) -> dict[str, Any]:
        """Put a clone of any kind into ``key``'s organisation (``POST /_sandbox/clones``);
        returns it as the list shows it. ``seed_clone(displayName="Old",
        modelIds=["lightning-large"])`` makes a legacy clone even when add_voice is gone."""
        response = httpx.post(
            f"{self.url}/_sandbox/clones", json=clone, headers=auth(key), timeout=15
        )
        response.raise_for_status()
        return response.json()

    def edit_clone(self, voice_id: str, **changes: Any) -> dict[str, Any]:
        """``PATCH /_sandbox/clones/{voice_id}``: ``displayName="X"``, ``ready=True`` ..."""
        return self._hook("PATCH", f"clones/{voice_id}", changes)

    def finish_processing(self, key: str = KEY) -> None:
        """End every clone's processing and list lag now (what a test would wait for)."""
        for clone in self.clones(key):
            self.edit_clone(clone["voiceId"], ready=True, listed=True)

    def clones(self, key: str = KEY) -> list[dict[str, Any]]:
        """The clones stored for ``key``'s organisation (listed or not, with status)."""
        org = self.state()["orgs"].get(org_of(key)) or {"clones": []}
        return org["clones"]

    # -- clients -----------------------------------------------------------------
    def client(self, key: str | None = KEY, **kwargs: Any) -> httpx.Client:
        """A sync httpx client on this server, authorised as ``key``."""
        headers = auth(key) if key is not None else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.Client(
            base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs
        )

    def async_client(self, key: str | None = KEY, **kwargs: Any) -> httpx.AsyncClient:
        headers = auth(key) if key is not None else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs
        )
