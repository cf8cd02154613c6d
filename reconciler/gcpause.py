"""The cyclic garbage collector, kept out of the way of big, short-lived builds.

A plan of 10,000 voices allocates millions of container objects (YAML nodes,
pydantic models, dicts of the list response) that almost all stay alive until
the plan is made, and almost none are in reference cycles. CPython's collector
is triggered by allocation counts, so it runs thousands of times during such a
build and each run scans the survivors: about a third of a 10,000-voice plan's
time. Reference counting still frees everything that dies; only cycles wait.

* :func:`paused` turns the collector off for a bounded build (load, list,
  plan), and back on after it.
* :func:`frozen` keeps the objects alive at its start (the manifest, lockfile
  and plan an apply keeps for its whole run) out of every later collection's
  scan, while the collector goes on freeing the cycles the requests make.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (nested blocks leave it to the outer one)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """What is alive now is left out of the collector's scans until the block ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
