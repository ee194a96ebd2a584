"""The one place python-escpos is imported.

Importing it has two side effects this module contains: it creates a fresh temporary
directory for its capabilities cache (its mkdtemp() call runs even when
ESCPOS_CAPABILITIES_PICKLE_DIR is set, because it is the default argument of environ.get),
and it calls logging.basicConfig(), which would configure the application's root logger.
The import is lazy: only USB and serial printers need it.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import tempfile
import threading
from types import ModuleType

_lock = threading.Lock()
_printers: ModuleType | None = None


def escpos_printers() -> ModuleType:
    """`escpos.printer`, imported without touching the root logger."""
    global _printers
    with _lock:
        if _printers is None:
            cache = os.path.join(tempfile.gettempdir(), "snelbalie-escpos")
            os.makedirs(cache, exist_ok=True)
            os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", cache)
            root = logging.getLogger()
            # basicConfig() does nothing when the root logger already has a handler.
            guard = logging.NullHandler()
            root.addHandler(guard)
            real_mkdtemp = tempfile.mkdtemp

            def mkdtemp(*args, **kwargs):
                # Only python-escpos's call gets the cache; other threads are unaffected.
                if sys._getframe(1).f_globals.get("__name__") == "escpos.capabilities":
                    return cache
                return real_mkdtemp(*args, **kwargs)

            tempfile.mkdtemp = mkdtemp
            try:
                _printers = importlib.import_module("escpos.printer")
            finally:
                tempfile.mkdtemp = real_mkdtemp
                root.removeHandler(guard)
        return _printers


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
