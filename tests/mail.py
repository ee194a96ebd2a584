"""A real SMTP server for the tests that send e-mail (aiosmtpd on loopback; the `mailbox`
fixture of tests/conftest.py), and the demo site set up to send to it."""

from __future__ import annotations

import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from tests.sites import site_variant


class Mailbox:
    """A real SMTP server on loopback that keeps what it was given; started when the test says."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.raw.append(envelope.content)
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> int:
        with self._lock:
            return len(self.received)


def mail_site(tmp_path, monkeypatch, port: int, kiosk: str = "", tables: str = "") -> str:
    """The demo site sending e-mail to a Mailbox on `port`, with `tables` (whole TOML tables)
    after its [mail] and `kiosk` lines in its [kiosk] table; no KIOSK_MAIL_* setting of this
    machine's applies."""
    for name in ("KIOSK_MAIL_HOST", "KIOSK_MAIL_PORT", "KIOSK_MAIL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    mail = (
        f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "burgerzaken@demostad.example"\n'
        f"starttls = false\n\n{tables}[kiosk]\n{kiosk}"
    )
    return str(site_variant(tmp_path, ("[kiosk]\n", mail)))


def mail_config(tmp_path, clock, monkeypatch, port: int, kiosk: str = "", tables: str = "") -> dict:
    """An app's configuration with mail_site, the test's clock and data directory."""
    site = mail_site(tmp_path, monkeypatch, port, kiosk, tables)
    return {"SITE": site, "DATA_DIR": str(tmp_path), "CLOCK": clock, "TESTING": True}
