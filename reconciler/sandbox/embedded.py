"""The sandbox in-process, for the CLI's ``--sandbox`` mode.

No server, no port: the CLI's httpx client talks to the app through
``httpx.ASGITransport``. The clones live in ``state_file`` (by convention
``.voicectl/sandbox.json`` beside the manifest), so successive CLI runs see the
clones earlier runs made. By default there are no faults and any key is accepted.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.errors import UserError
from reconciler.sandbox.app import create_app
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.state import StateFileError


def embedded_transport(
    state_file: Path, config: SandboxConfig | None = None
) -> httpx.ASGITransport:
    """An httpx transport that serves requests from an in-process sandbox.

    Use it as ``httpx.AsyncClient(transport=embedded_transport(p), base_url="http://sandbox")``.
    The sandbox object is reachable as ``transport.app.state.sandbox``. A dropped
    connection fault (only if ``config`` asks for faults) surfaces as
    ``httpx.RemoteProtocolError``, as over a real socket. A ``state_file`` that
    cannot be read (not JSON, a malformed clone, a folder in its place) is a
    :class:`UserError`: one line naming the file, what is wrong in it and what to do.
    """
    try:
        app = create_app(config or SandboxConfig(), state_file=Path(state_file))
    except StateFileError as exc:
        raise UserError(str(exc)) from None
    return httpx.ASGITransport(app=app)
