"""The Waves API emulator ("the sandbox"): a Starlette app, state, faults.

* :func:`reconciler.sandbox.app.create_app` - the app (in-process or under uvicorn);
* :func:`reconciler.sandbox.embedded.embedded_transport` - an httpx transport for ``--sandbox``;
* :func:`reconciler.sandbox.server.serve` - ``voicectl sandbox serve``;
* :class:`reconciler.sandbox.config.SandboxConfig` - every knob.
"""

from __future__ import annotations

from reconciler.sandbox.app import Sandbox, create_app
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.embedded import embedded_transport
from reconciler.sandbox.state import StateFileError

__all__ = ["Sandbox", "SandboxConfig", "StateFileError", "create_app", "embedded_transport"]
