"""Settings, the simulated and file drivers, and the optional USB/serial dependencies."""

import json
import os
import subprocess
import sys

import pytest

from hardware.printer import (
    PrinterConfigError,
    TicketPrinter,
    check_settings,
    make_printer,
    parse_settings,
)
from hardware.printer.escpos_lib import module_available


def test_settings_defaults():
    s = parse_settings({"kind": "network", "host": "192.168.1.50"})
    assert (s.port, s.timeout, s.deadline) == (9100, 2.0, 3.0)
    assert (s.paper_width_mm, s.columns, s.code_page, s.cut) == (80, 42, "cp858", "full")
    assert parse_settings({"paper_width_mm": 58}).columns == 32
    assert parse_settings({"paper_width_mm": 80, "columns": 48}).columns == 48


def test_network_printers_by_ip_address():
    assert parse_settings({"kind": "network", "host": "2001:db8::50"}).host == "2001:db8::50"
    assert parse_settings({"kind": "network", "host": "127.0.0.1"}).host == "127.0.0.1"


def test_usb_ids_as_lsusb_prints_them():
    s = parse_settings({"kind": "usb", "vendor_id": "04b8", "product_id": "0x0202"})
    assert (s.vendor_id, s.product_id) == (0x04B8, 0x0202)
    assert parse_settings({"kind": "usb", "vendor_id": 1208, "product_id": 514}).vendor_id == 0x04B8


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"kind": "bluetooth"}, "kind must be one of"),
        ({"kind": "network"}, "needs host"),
        ({"kind": "usb", "vendor_id": "04b8"}, "needs product_id"),
        ({"kind": "serial"}, "needs device"),
        ({"kind": "file"}, "needs path"),
        ({"kind": "network", "host": "x", "prot": 9100}, "unknown key(s) prot"),
        ({"paper_width_mm": 76}, "58 or 80"),
        ({"deadline": 0}, "positive number"),
        ({"code_page": "cp437"}, "code_page must be"),
        ({"kind": "usb", "vendor_id": "epson", "product_id": 1}, "hexadecimal"),
        ({"kind": "network", "host": "printer.example"}, "host must be an IP address"),
        ({"kind": "network", "host": "localhost"}, "host must be an IP address"),
    ],
)
def test_settings_errors_name_the_key(raw, message):
    with pytest.raises(PrinterConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_settings(raw)


@pytest.mark.skipif(module_available("usb"), reason="pyusb is installed here")
@pytest.mark.parametrize("check", [make_printer, check_settings])
def test_usb_without_pyusb_is_a_clear_error(check):
    with pytest.raises(PrinterConfigError, match="kind 'usb' needs the package pyusb"):
        check({"kind": "usb", "vendor_id": "04b8", "product_id": "0202"})


@pytest.mark.skipif(module_available("serial"), reason="pyserial is installed here")
@pytest.mark.parametrize("check", [make_printer, check_settings])
def test_serial_without_pyserial_is_a_clear_error(check):
    with pytest.raises(PrinterConfigError, match="kind 'serial' needs the package pyserial"):
        check({"kind": "serial", "device": "/dev/ttyUSB0"})


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "network", "host": "192.0.2.50"},
        {"kind": "file", "path": "/dev/usb/lp0"},
        {"kind": "simulated"},
    ],
)
def test_kinds_without_extra_packages_pass_the_check(raw):
    assert check_settings(raw).kind == raw["kind"]


def test_simulated_printer_writes_bytes_html_and_png(tmp_path, make_ticket):
    printer = TicketPrinter({"kind": "simulated", "folder": str(tmp_path / "tickets"), "paper_width_mm": 58})
    ticket = make_ticket(number="D007")

    outcome = printer.print_ticket(ticket)

    assert outcome.printed and outcome.status.ready
    files = sorted(p.name for p in (tmp_path / "tickets").iterdir())
    assert [name.rsplit(".", 1)[1] for name in files] == ["escpos", "html", "png"]
    assert all("D007" in name for name in files)
    stem = tmp_path / "tickets" / files[0].rsplit(".", 1)[0]
    assert stem.with_suffix(".escpos").read_bytes() == printer.render(ticket)
    assert "D007" in stem.with_suffix(".html").read_text(encoding="utf-8")
    assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "mode, printed, reason",
    [
        ("ok", True, None),
        ("paper_near_end", True, None),
        ("paper_out", False, "paper_out"),
        ("cover_open", False, "cover_open"),
        ("offline", False, "offline"),
    ],
)
def test_simulated_printer_modes(tmp_path, make_ticket, mode, printed, reason):
    printer = TicketPrinter({"kind": "simulated", "folder": str(tmp_path)})
    printer.printer.mode = mode
    outcome = printer.print_ticket(make_ticket())
    assert (outcome.printed, outcome.reason) == (printed, reason)
    assert len(list(tmp_path.iterdir())) == (3 if printed else 0)


def test_file_printer_appends_to_an_existing_device(tmp_path, make_ticket):
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    printer = TicketPrinter({"kind": "file", "path": str(device)})
    outcome = printer.print_ticket(make_ticket())
    assert outcome.printed
    assert outcome.status.paper == "unknown"  # a device file cannot report status
    assert device.read_bytes() == printer.render(make_ticket())


def test_file_printer_missing_device_is_offline_and_creates_nothing(tmp_path, make_ticket):
    device = tmp_path / "lp0"
    outcome = TicketPrinter({"kind": "file", "path": str(device)}).print_ticket(make_ticket())
    assert (outcome.printed, outcome.reason) == (False, "offline")
    assert not device.exists()


def test_escpos_import_leaves_logging_and_temp_dirs_alone(tmp_path):
    """python-escpos calls logging.basicConfig() and mkdtemp() when imported; neither may
    reach the application, and nothing process-wide may change meanwhile (other threads
    use tempfile, the root logger and the environment at the same time)."""
    code = (
        "import json, logging, os, tempfile, types\n"
        "changes = []\n"
        "class Watched(types.ModuleType):\n"
        "    def __setattr__(self, name, value):\n"
        "        changes.append('tempfile.' + name)\n"
        "        super().__setattr__(name, value)\n"
        "tempfile.__class__ = Watched\n"
        "root = logging.getLogger()\n"
        "real_add_handler = root.addHandler\n"
        "def add_handler(handler):\n"
        "    changes.append('root handler')\n"
        "    real_add_handler(handler)\n"
        "root.addHandler = add_handler\n"
        "environment = dict(os.environ)\n"
        "from hardware.printer.escpos_lib import escpos_printers\n"
        "escpos_printers()\n"
        "import escpos.capabilities as c\n"
        "if dict(os.environ) != environment:\n"
        "    changes.append('environment')\n"
        "print(json.dumps([changes, len(root.handlers), c.pickle_dir]))\n"
    )
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env.pop("ESCPOS_CAPABILITIES_PICKLE_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert result.returncode == 0, result.stderr
    changes, handlers, pickle_dir = json.loads(result.stdout)
    assert changes == []
    assert handlers == 0
    assert pickle_dir == str(tmp_path / "snelbalie-escpos")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snelbalie-escpos"]
    assert list((tmp_path / "snelbalie-escpos").iterdir())  # the capabilities cache


def test_the_simulated_printer_reports_a_mode_change_at_once(tmp_path):
    printer = TicketPrinter({"kind": "simulated", "folder": str(tmp_path)})
    assert printer.check_status().ready
    printer.printer.mode = "paper_out"  # the demo and the dashboard switch modes at run time
    assert printer.check_status().paper == "out"
