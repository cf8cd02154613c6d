"""Modules imported on first use, so a command's module is cheap to import.

``voicectl plan --target <TAB>`` must build the ``plan`` command (its options)
without importing what running it needs (httpx, the renderer, the planner...).
Command modules bind those as ``render = lazy_module("reconciler.render")``:
the module object exists at once and is executed on its first attribute access
(the standard library's :class:`importlib.util.LazyLoader`).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name`` (a full dotted name), executed when one of its attributes is first read."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
