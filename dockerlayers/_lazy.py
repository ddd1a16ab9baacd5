"""Lazy package exports (PEP 562): a package's public names load on first use.

A package `__init__` that re-exports its modules' names would import all of them whenever
any one submodule is imported; the command line then pays for the whole model on every
invocation. `lazy_exports` gives a package a `__getattr__` that imports the module holding a
name when that name is first asked for (`from dockerlayers.process import Process` works as
before).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `exports` maps each name to its module."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__


class LazyModule:
    """A module imported on first attribute access (`commit = LazyModule("...commit")`):
    a verb's module loads only when that verb runs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
