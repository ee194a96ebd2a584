"""The one place python-escpos is imported.

Importing it runs escpos.capabilities, which has two side effects this module contains:
it creates a fresh temporary directory for its capabilities cache (its mkdtemp() call runs
even when ESCPOS_CAPABILITIES_PICKLE_DIR is set, because it is the default argument of
environ.get), and it calls logging.basicConfig(), which would configure the application's
root logger. So escpos.capabilities is run here first, with its own `tempfile` and
`logging`: its mkdtemp() gives one fixed cache directory and its basicConfig() does nothing.
No process-wide function, logger or environment variable changes, so other threads are
unaffected. The import is lazy: only USB and serial printers need it.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

CACHE_DIR_NAME = "snelbalie-escpos"
_CAPABILITIES = "escpos.capabilities"

_lock = threading.Lock()
_printers: ModuleType | None = None


def escpos_printers() -> ModuleType:
    """`escpos.printer`, imported without touching the root logger or leaving temp dirs."""
    global _printers
    with _lock:
        if _printers is None:
            if _CAPABILITIES not in sys.modules:
                _import_capabilities()
            _printers = importlib.import_module("escpos.printer")
        return _printers


def _import_capabilities() -> None:
    cache = os.path.join(tempfile.gettempdir(), CACHE_DIR_NAME)
    os.makedirs(cache, exist_ok=True)
    importlib.import_module("escpos")  # the parent package; it does not load capabilities
    spec = importlib.util.find_spec(_CAPABILITIES)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {_CAPABILITIES!r}", name=_CAPABILITIES)
    own_modules = {
        "tempfile": _overlay(tempfile, mkdtemp=lambda *args, **kwargs: cache),
        "logging": _overlay(logging, basicConfig=lambda *args, **kwargs: None),
    }

    def import_(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> ModuleType:
        if level == 0 and name in own_modules:
            return own_modules[name]
        return builtins.__import__(name, globals, locals, fromlist, level)

    module = importlib.util.module_from_spec(spec)
    # A module's code looks `import` up in its own __builtins__: this reaches only
    # escpos.capabilities, not the process's tempfile and logging modules.
    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": import_}
    sys.modules[_CAPABILITIES] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_CAPABILITIES]
        raise


def _overlay(module: ModuleType, **overrides: Any) -> ModuleType:
    """A module with `overrides` that answers every other name from `module`."""
    overlay = ModuleType(module.__name__)
    overlay.__dict__.update(overrides, __getattr__=lambda name: getattr(module, name))
    return overlay


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
