"""The TLS context of a run, made on a helper thread while the run reads its manifest.

Loading the certificate authorities (certifi's bundle, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` when the environment is trusted: exactly what httpx does by
default) is some 20 ms of OpenSSL work, done with the GIL released. A command
that will talk to the service calls :func:`prepare` first thing, and the
client takes the finished context with :func:`context`; a process makes it
once per trust setting and shares it (an ``SSLContext`` serves any number of
connections).
"""

from __future__ import annotations

import os
import ssl
import threading
from concurrent.futures import Future

_lock = threading.Lock()
_made: dict[tuple[bool, str, str], Future[ssl.SSLContext]] = {}


def _key(trust_env: bool) -> tuple[bool, str, str]:
    if not trust_env:
        return (False, "", "")
    return (True, os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))


def _make(done: Future[ssl.SSLContext], trust_env: bool) -> None:
    import httpx

    try:
        done.set_result(httpx.create_ssl_context(trust_env=trust_env))
    except BaseException as exc:  # handed to whoever waits for the context
        done.set_exception(exc)


def prepare(trust_env: bool) -> None:
    """Start making the context on a helper thread (once per process and setting)."""
    with _lock:
        key = _key(trust_env)
        if key in _made:
            return
        done: Future[ssl.SSLContext] = Future()
        _made[key] = done
    # Not a daemon: a run that ends early (a bad manifest) waits the few milliseconds
    # left, rather than exiting while OpenSSL is still loading on this thread.
    threading.Thread(target=_make, args=(done, trust_env), name="voicectl-tls").start()


def context(trust_env: bool) -> ssl.SSLContext:
    """The context, made on the helper thread (prepared already, or now) and waited for."""
    prepare(trust_env)
    with _lock:
        done = _made[_key(trust_env)]
    return done.result()
