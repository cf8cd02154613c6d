"""The cyclic garbage collector, kept out of the way of big, long-lived builds.

A plan of 10,000 voices allocates millions of container objects (YAML nodes,
models, dicts) that almost all stay alive until the run ends, and almost none
are in reference cycles. CPython's collector is triggered by allocation counts,
so it runs thousands of times during such a build, and each run scans the
survivors again: about a third of a 10,000-voice plan's time. Reference
counting still frees everything that dies; only cycles wait.

* :func:`paused` turns the collector off for a bounded build (load, list,
  plan) and, at its end, freezes what survived (``gc.freeze``): those objects
  are long-lived by construction, so no later collection scans them, while the
  collector goes on freeing the cycles the run makes afterwards (an apply's
  requests).
* A command's process ends soon after: it never thaws, so the collection at
  interpreter exit skips the frozen objects too. A process that goes on after a
  run (the test suite, after each test) calls :func:`thaw` to hand them back.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block, and its survivors frozen at its end
    (a nested block leaves both to the outer one).

    The block's garbage is freed by reference counting as it goes; what it leaves in
    cycles stays until the process ends (the client's answers leave none:
    tests/unit/test_api_cycles.py)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def thaw() -> None:
    """Everything frozen is scanned by the collector again."""
    gc.unfreeze()
