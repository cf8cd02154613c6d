"""Helpers for the API client's end-to-end tests (no tests here).

``Sandbox`` drives a running ``voicectl sandbox serve`` through its hooks:
reset with a config, change the config, read stats and the stored clones.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.sandbox.config import org_id_for_key

T = TypeVar("T")

KEY = "sk_e2e_9fQ2xLw7TzSecretKey"
ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"listening on (http://\S+)")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Sandbox:
    """A running sandbox: its URL and its /_sandbox hooks."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _hook(self, method: str, name: str, body: dict | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{name}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self, **config: Any) -> None:
        """Drop clones and stats; the startup config plus ``config``."""
        self._hook("POST", "reset", config)

    def config(self, **changes: Any) -> None:
        self._hook("POST", "config", changes)

    def stats(self) -> dict[str, Any]:
        return self._hook("GET", "stats")

    def reset_stats(self) -> None:
        self._hook("POST", "stats/reset")

    def clones(self, key: str = KEY) -> list[dict[str, Any]]:
        """What the sandbox stores for the organisation of ``key`` (audio info included)."""
        state = self._hook("GET", "state")
        org = state["orgs"].get(org_id_for_key(key)) or {"clones": []}
        return org["clones"]


class SandboxProcess:
    """``voicectl sandbox serve --port 0`` in a subprocess."""

    def __init__(self, *args: str):
        self.args = args
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Sandbox:
        cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *self.args]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            match = _LISTENING.search(line)
            if match:
                return Sandbox(match.group(1))
        self.stop()
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def sandbox_fixture(*args: str):
    """A module-scoped server fixture, reset before each test that uses it."""

    @pytest.fixture(scope="module", name="api_sandbox_server")
    def _server() -> Iterator[Sandbox]:
        process = SandboxProcess(*args)
        sandbox = process.start()
        try:
            yield sandbox
        finally:
            process.stop()

    @pytest.fixture(name="srv")
    def _srv(api_sandbox_server: Sandbox) -> Sandbox:
        api_sandbox_server.reset()
        return api_sandbox_server

    return _server, _srv
