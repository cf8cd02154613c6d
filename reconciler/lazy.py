"""Modules imported on first use, so a command's module is cheap to import.

``voicectl plan --target <TAB>`` must build the ``plan`` command (its options)
without importing what running it needs (httpx, the renderer, the planner...).
Command modules bind those as ``render = lazy_module("reconciler.render")``:
the module object exists at once and is executed on its first attribute access
(the standard library's :class:`importlib.util.LazyLoader`).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

_SPECS: dict[str, importlib.machinery.ModuleSpec] = {}


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of ``name`` without executing its parent packages (they are made lazy too)."""
    parent, _, _ = name.rpartition(".")
    if not parent:
        return importlib.util.find_spec(name)
    lazy_module(parent)
    parent_spec = _SPECS.get(parent) or sys.modules[parent].__spec__
    if parent_spec is None or parent_spec.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(
        name, list(parent_spec.submodule_search_locations)
    )


def lazy_module(name: str) -> ModuleType:
    """``name`` (a full dotted name), executed when one of its attributes is first read.

    Its parent packages are lazy as well: ``lazy_module("reconciler.render.problems")``
    does not run ``reconciler/render/__init__.py``.
    """
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = _find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    _SPECS[name] = spec
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
