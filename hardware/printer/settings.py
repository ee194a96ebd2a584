"""Printer settings: the site profile's [printer] table, checked once at start-up."""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from hardware.printer.code_page import CODE_PAGES, DEFAULT_CODE_PAGE
from hardware.printer.escpos_ticket import default_columns
from hardware.printer.raster import DEFAULT_FONT, default_dot_width

KINDS = ("network", "usb", "serial", "file", "simulated")
SIMULATED_MODES = ("ok", "paper_near_end", "paper_out", "cover_open", "offline")


class PrinterConfigError(ValueError):
    """The [printer] settings cannot work; the message says which key and why."""


@dataclass(frozen=True)
class PrinterSettings:
    kind: str = "simulated"
    # every kind
    paper_width_mm: int = 80
    columns: int = 42  # default: 32 for 58 mm paper, 42 for 80 mm
    code_page: str = DEFAULT_CODE_PAGE
    # Text the code page cannot carry (Arabic, Cyrillic on a Latin page) is printed as a
    # picture this many dots wide (default: 384 for 58 mm paper, 576 for 80 mm; a TM-T88 has
    # 512), drawn with this font (it must cover every script of the site's languages).
    dot_width: int = 576
    raster_font: str = DEFAULT_FONT
    cut: str = "full"
    timeout: float = 2.0  # seconds, per connect / read / write
    deadline: float = 3.0  # seconds, the whole print_ticket call
    # network
    host: str | None = None
    port: int = 9100
    # usb
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int = 0x82
    out_ep: int = 0x01
    # serial
    device: str | None = None
    baudrate: int = 9600
    # file (a device node such as /dev/usb/lp0)
    path: str | None = None
    # simulated
    folder: str = os.path.join(tempfile.gettempdir(), "snelbalie-tickets")
    mode: str = "ok"


_KEYS = {f.name for f in fields(PrinterSettings)}


def parse_settings(raw: Mapping[str, Any] | PrinterSettings | None) -> PrinterSettings:
    if isinstance(raw, PrinterSettings):
        return raw
    raw = dict(raw or {})
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PrinterConfigError(f"[printer] unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    kind = raw.get("kind", "simulated")
    if kind not in KINDS:
        raise PrinterConfigError(f"[printer] kind must be one of {', '.join(KINDS)}, not {kind!r}")

    paper = _int(raw, "paper_width_mm", 80)
    if paper not in (58, 80):
        raise PrinterConfigError("[printer] paper_width_mm must be 58 or 80")
    columns = _int(raw, "columns", default_columns(paper))
    if not 16 <= columns <= 64:
        raise PrinterConfigError("[printer] columns must be between 16 and 64")
    code_page = raw.get("code_page", DEFAULT_CODE_PAGE)
    if code_page not in CODE_PAGES:
        raise PrinterConfigError(f"[printer] code_page must be one of {', '.join(CODE_PAGES)}")
    dot_width = _int(raw, "dot_width", default_dot_width(paper))
    if not 128 <= dot_width <= 1024 or dot_width % 8:
        raise PrinterConfigError(
            "[printer] dot_width must be a multiple of 8 between 128 and 1024 (384 on 58 mm, 576 on 80 mm)"
        )
    raster_font = raw.get("raster_font", DEFAULT_FONT)
    if not isinstance(raster_font, str) or not raster_font:
        raise PrinterConfigError("[printer] raster_font must be the path of a TrueType or OpenType font file")
    cut = raw.get("cut", "full")
    if cut not in ("full", "partial"):
        raise PrinterConfigError("[printer] cut must be 'full' or 'partial'")
    mode = raw.get("mode", "ok")
    if mode not in SIMULATED_MODES:
        raise PrinterConfigError(f"[printer] mode must be one of {', '.join(SIMULATED_MODES)}")

    values: dict[str, Any] = dict(
        kind=kind,
        paper_width_mm=paper,
        columns=columns,
        code_page=code_page,
        dot_width=dot_width,
        raster_font=raster_font,
        cut=cut,
        timeout=_seconds(raw, "timeout", 2.0),
        deadline=_seconds(raw, "deadline", 3.0),
        host=raw.get("host"),
        port=_int(raw, "port", 9100),
        vendor_id=_usb_id(raw, "vendor_id"),
        product_id=_usb_id(raw, "product_id"),
        in_ep=_usb_id(raw, "in_ep") or 0x82,
        out_ep=_usb_id(raw, "out_ep") or 0x01,
        device=raw.get("device"),
        baudrate=_int(raw, "baudrate", 9600),
        path=raw.get("path"),
        mode=mode,
    )
    if "folder" in raw:
        values["folder"] = str(raw["folder"])

    required = {"network": ("host",), "usb": ("vendor_id", "product_id"), "serial": ("device",), "file": ("path",)}.get(
        kind, ()
    )
    missing = [key for key in required if not values[key]]
    if missing:
        raise PrinterConfigError(f"[printer] kind {kind!r} needs {', '.join(missing)}")
    if kind == "network":
        _check_ip_address(values["host"])
    return PrinterSettings(**values)


def _check_ip_address(host: Any) -> None:
    """A host name would be looked up on every ticket, and a name lookup cannot be held to
    the printing deadline (with DNS down it takes as long as the resolver likes)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise PrinterConfigError(
            f"[printer] host must be an IP address such as 192.0.2.50, not {host!r}: "
            "give the printer a fixed address (a name lookup cannot be bounded by the deadline)"
        ) from None


def _int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PrinterConfigError(f"[printer] {key} must be a whole number")
    return value


def _seconds(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise PrinterConfigError(f"[printer] {key} must be a positive number of seconds")
    return float(value)


def _usb_id(raw: Mapping[str, Any], key: str) -> int | None:
    """USB ids as numbers (0x04b8) or as lsusb prints them ("04b8")."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise PrinterConfigError(f'[printer] {key} must be a number or hexadecimal text like "04b8"')
