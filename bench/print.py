"""Ticket printing: bytes per ticket, and time from issue to bytes at the printer.

"Issue" is the call to TicketPrinter.print_ticket with a fresh TicketPrint; "received" is
when the fake network printer (127.0.0.1) got the job's last byte. That includes rendering,
connecting, the status round trip, sending and closing. The Arabic and Ukrainian tickets
print their citizen's lines as pictures (GS v 0) on a Latin code page; the Ukrainian one also
as text on WPC1251. The last figure is the kiosk's whole path: the citizen's "Take a ticket"
(ticket stored in SQLite, then printed).

    .venv/bin/python bench/print.py [--runs 50]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.printer import TicketPrint, TicketPrinter  # noqa: E402
from hardware.printer.fake_printer import FakeNetworkPrinter  # noqa: E402
from tests.printer.conftest import ARABIC, DUTCH_LABELS, FRENCH_LABELS, UKRAINIAN  # noqa: E402

# (name, ticket overrides, printer settings): the French ticket is the one measured before.
TICKETS = [
    ("French", {}, {}),
    ("Arabic", ARABIC, {}),
    ("Ukrainian", UKRAINIAN, {}),
    ("Ukrainian, code page cp1251", UKRAINIAN, {"code_page": "cp1251"}),
]


def ticket(n: int, **overrides) -> TicketPrint:
    values = dict(
        municipality="Gemeente Demostad",
        number=f"A{n % 1000:03d}",
        service_name="Réinitialisation du code PIN",
        service_name_main="Nieuwe pincode (met PUK)",
        issued_at=datetime.now(),
        people_ahead=n % 9,
        estimated_wait_minutes=4 * (n % 9),
        bring=[
            "Uw huidige verblijfskaart, of het attest van verlies of diefstal van de politie",
            "De brief met uw PIN- en PUK-code",
            "Nieuwe codes: 5 € (Bancontact of contant)",
        ],
        status_url=f"https://q.demostad.be/t/{n:04d}Kp",
        footer="Burgerzaken Demostad - snelbalie",
        language="fr",
        labels=FRENCH_LABELS,
        labels_main=DUTCH_LABELS,
    )
    values.update(overrides)
    return TicketPrint(**values)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs

    for name, overrides, settings in TICKETS:
        for paper in (58, 80):
            printer = TicketPrinter({"paper_width_mm": paper, **settings})
            size = len(printer.render(ticket(12, **overrides)))  # also the warm-up: fonts, glyph checks
            render_ms = []
            for n in range(1, 21):
                started = time.perf_counter()
                printer.render(ticket(n, **overrides))
                render_ms.append((time.perf_counter() - started) * 1000)
            print(
                f"{name} ticket bytes, {paper} mm paper: {size}; rendering median {statistics.median(render_ms):.2f} ms"
            )

    for name, overrides, settings in TICKETS:
        for paper in (58, 80):
            line = issue_to_printer(runs, paper, overrides, settings)
            if line is None:
                return 1
            print(f"{name}: {line}")
    print(kiosk_issue_to_printer(runs))
    return 0


def issue_to_printer(runs: int, paper: int, overrides: dict, settings: dict) -> str | None:
    with FakeNetworkPrinter() as fake:
        printer = TicketPrinter(fake.settings(paper_width_mm=paper, **settings))
        printer.print_ticket(ticket(0, **overrides))  # warm-up: imports, first connection, fonts
        fake.wait_for_job(5.0)
        latencies, calls = [], []
        for n in range(1, runs + 1):
            fresh = ticket(n, **overrides)
            issued = time.perf_counter()
            outcome = printer.print_ticket(fresh)
            returned = time.perf_counter()
            if not outcome.printed:
                print(f"run {n}: not printed ({outcome.reason})", file=sys.stderr)
                return None
            job = fake.wait_for_job(5.0)
            latencies.append((job.received_at - issued) * 1000)
            calls.append((returned - issued) * 1000)
    latencies.sort()
    return (
        f"issue -> bytes received, {paper} mm, fake network printer: "
        f"median {statistics.median(latencies):.2f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.2f} ms, "
        f"max {latencies[-1]:.2f} ms (n={runs}); "
        f"print_ticket returns after median {statistics.median(calls):.2f} ms"
    )


def kiosk_issue_to_printer(runs: int) -> str:
    """The whole kiosk path: the citizen taps "Take a ticket" (the ticket is stored, then
    printed) until the fake network printer has the last byte."""
    import tempfile

    from kiosk import create_app
    from kiosk.extensions import office
    from kiosk.server import KIOSK, LISTENER
    from kiosk.site import DEMO_PROFILE
    from kiosk.storage import migrate

    with FakeNetworkPrinter() as fake, tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site.toml"
        site.write_text(
            DEMO_PROFILE.read_text(encoding="utf-8").replace(
                '[printer]\nkind = "simulated"', f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {fake.port}'
            ),
            encoding="utf-8",
        )
        app = create_app({"SITE": str(site), "DATA_DIR": tmp, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            migrate(office.engine)
            reader = office.reader
        client = app.test_client()
        client.environ_base[LISTENER] = KIOSK  # as the kiosk's own listener serves its screen
        latencies = []
        for n in range(runs + 1):
            client.get("/kiosk/reset")
            client.get("/kiosk/identify?visit=pin_reset")
            reader.insert("adult-f-plus")  # inserted for this visit, as a citizen does
            page = client.get("/kiosk/check").get_data(as_text=True)
            field = re.search(r'<input[^>]*name="flow_id"[^>]*>', page)
            flow_id = re.search(r'value="([^"]+)"', field.group(0)).group(1)  # the screen's one ticket
            issued = time.perf_counter()
            response = client.post("/kiosk/check", data={"confirmed": ["card", "puk"], "flow_id": flow_id})
            job = fake.wait_for_job(5.0)
            reader.remove()
            if response.status_code != 302 or not response.headers["Location"].endswith("/kiosk/ticket"):
                raise SystemExit(f"the kiosk did not issue a ticket: {response.status_code}")
            if n:  # the first is a warm-up
                latencies.append((job.received_at - issued) * 1000)
        reader.stop()
    latencies.sort()
    return (
        f"kiosk 'Take a ticket' (stored, then printed) -> bytes received, 80 mm: "
        f"median {statistics.median(latencies):.2f} ms, p95 {latencies[int(0.95 * (len(latencies) - 1))]:.2f} ms "
        f"(n={runs})"
    )


if __name__ == "__main__":
    sys.exit(main())
