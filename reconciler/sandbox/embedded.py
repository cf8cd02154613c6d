"""The sandbox in-process, for the CLI's ``--sandbox`` mode.

No server, no port: the CLI's httpx client talks to the app through
``httpx.ASGITransport``. The clones live in ``state_file`` (by convention
``.voicectl/sandbox.json`` beside the manifest), so successive CLI runs see the
clones earlier runs made. By default there are no faults and any key is accepted.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.sandbox.app import create_app
from reconciler.sandbox.config import SandboxConfig


def embedded_transport(
    state_file: Path, config: SandboxConfig | None = None
) -> httpx.ASGITransport:
    """An httpx transport that serves requests from an in-process sandbox.

    Use it as ``httpx.AsyncClient(transport=embedded_transport(p), base_url="http://sandbox")``.
    The sandbox object is reachable as ``transport.app.state.sandbox``. A dropped
    connection fault (only if ``config`` asks for faults) surfaces as
    ``httpx.RemoteProtocolError``, as over a real socket. Raises
    ``reconciler.sandbox.state.StateFileError`` when ``state_file`` is unreadable.
    """
    app = create_app(config or SandboxConfig(), state_file=Path(state_file))
    return httpx.ASGITransport(app=app)
