"""Helpers for the API client's end-to-end tests (no tests here).

The server is the shared ``sandbox_server`` fixture of ``tests/conftest.py`` (a real
``voicectl sandbox serve`` subprocess, reset before each test); ``srv`` is its name
in the API tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from sandbox_support import SandboxServer

T = TypeVar("T")

KEY = "sk_e2e_9fQ2xLw7TzSecretKey"  # the API tests' own key (its own organisation)

Sandbox = SandboxServer


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def sandbox_fixture():
    """The ``srv`` fixture: the shared sandbox server, reset, for a test module to import."""

    @pytest.fixture(name="srv")
    def _srv(sandbox_server: SandboxServer) -> SandboxServer:
        return sandbox_server

    return _srv
