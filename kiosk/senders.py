"""Sending one rendered message: e-mail over SMTP ([mail]), text messages through the office's
HTTP gateway ([sms]). No database, no Flask: kiosk.outbox decides what to send and when.

A failure is described by `failure()` in words of its own (class, SMTP or HTTP code, errno):
a server's reply may quote the address, and that goes neither into the log nor the database.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Protocol

from .site import MailSettings, SiteProfile, SmsSettings

log = logging.getLogger(__name__)

# Each network step (connect, each reply, the gateway's answer) gives up after this; the
# outbox's lease is far longer, so no other worker takes a message while one still sends it.
SEND_TIMEOUT_S = 20.0
ERROR_LIMIT = 200  # the outbox's column


class SendError(Exception):
    """A send that did not go through. Its text is ours and holds no personal data."""

    permanent = False


class Refused(SendError):
    """The server or gateway refused this message: sending it again would not help."""

    permanent = True


@dataclass(frozen=True)
class Outgoing:
    id: int
    address: str
    language: str
    subject: str
    text: str  # e-mail
    short: str  # text message
    created_at: dt.datetime  # naive UTC


class Sender(Protocol):
    def send(self, message: Outgoing) -> None:
        """Return once the server took the message; raise otherwise."""
        ...


def failure(exc: BaseException) -> tuple[str, bool]:
    """(what went wrong, whether trying again is pointless), never quoting the server."""
    name = type(exc).__name__
    if isinstance(exc, SendError):
        text, permanent = str(exc), exc.permanent
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        text, permanent = f"{name} {' '.join(map(str, codes))}", all(code >= 500 for code in codes)
    elif isinstance(exc, smtplib.SMTPResponseException):
        text, permanent = f"{name} {exc.smtp_code}", False
    elif isinstance(exc, urllib.error.HTTPError):
        # a 4xx refuses this message (a number the gateway will not take); 408 and 429 mean later
        text, permanent = f"HTTP {exc.code}", 400 <= exc.code < 500 and exc.code not in (408, 429)
    elif isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        text, permanent = (failure(reason)[0] if isinstance(reason, BaseException) else name), False
    elif isinstance(exc, ssl.SSLError):  # its errno is the TLS library's, not the system's
        text, permanent = f"{name} ({exc.reason})", False
    elif isinstance(exc, OSError) and exc.errno is not None and exc.errno in errno.errorcode:
        text, permanent = f"{name} ({errno.errorcode[exc.errno]})", False
    else:
        text, permanent = name, False
    return text[:ERROR_LIMIT], permanent


class MailSender:
    """One SMTP connection per message: messages are few, and a connection kept open would
    only meet the server's idle time-out."""

    def __init__(self, settings: MailSettings, municipality: str, environ: Mapping[str, str] = os.environ):
        self.host = environ.get("KIOSK_MAIL_HOST") or settings.host
        port = environ.get("KIOSK_MAIL_PORT") or settings.port
        try:
            self.port = int(port)
        except ValueError:
            raise ValueError(f"KIOSK_MAIL_PORT is not a port number: {port!r}") from None
        if not 1 <= self.port <= 65535:
            raise ValueError(f"KIOSK_MAIL_PORT is not a port number: {port!r}")
        self.settings, self.municipality = settings, municipality
        self.password = environ.get("KIOSK_MAIL_PASSWORD")
        if settings.username and not self.password:
            raise ValueError("[mail] has a username but KIOSK_MAIL_PASSWORD is not set")

    def message(self, message: Outgoing) -> EmailMessage:
        sender = self.settings.sender
        mail = EmailMessage()
        mail["From"] = formataddr((self.municipality, sender))
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(_utc(message.created_at))
        # The same for every attempt: a message sent again after a lost answer is seen as one.
        mail["Message-ID"] = f"<outbox.{message.id}.{_utc(message.created_at):%Y%m%d%H%M%S}@{sender.split('@')[1]}>"
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
        mail.set_content(message.text)
        mail["Content-Language"] = message.language  # after set_content, which drops Content-* headers
        return mail

    def send(self, message: Outgoing) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SEND_TIMEOUT_S) as smtp:
            if self.settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.username and self.password:
                smtp.login(self.settings.username, self.password)
            smtp.send_message(self.message(message))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects a POST has moved: say so rather than re-send as a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class SmsSender:
    def __init__(self, settings: SmsSettings, environ: Mapping[str, str] = os.environ):
        self.settings = settings
        self.authorization: str | None = None
        if settings.auth_header:
            self.authorization = environ.get(settings.auth_header)
            if not self.authorization:
                raise ValueError(f"[sms] auth_header names {settings.auth_header}, which is not set")
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, message: Outgoing) -> None:
        headers = {"Content-Type": "application/json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(
            self.settings.url,
            data=self.settings.filled(message.address, message.short).encode(),
            headers=headers,
            method="POST",
        )
        with self._opener.open(request, timeout=SEND_TIMEOUT_S) as response:
            if not 200 <= response.status < 300:
                raise SendError(f"HTTP {response.status}")


def senders_for(site: SiteProfile, environ: Mapping[str, str] = os.environ) -> tuple[dict[str, Sender], dict[str, str]]:
    """The channels this instance can send on, and why each other one is off (for the
    messages that wait on it: they are held with that reason)."""
    senders: dict[str, Sender] = {}
    off: dict[str, str] = {}
    if site.mail is None:
        off["email"] = "e-mail is not set up: the site profile has no [mail] table"
    else:
        try:
            senders["email"] = MailSender(site.mail, site.municipality, environ)
        except ValueError as exc:
            off["email"] = f"e-mail is off: {exc}"
    if site.sms is None:
        off["sms"] = "text messages are not set up: the site profile has no [sms] table"
    else:
        try:
            senders["sms"] = SmsSender(site.sms, environ)
        except ValueError as exc:
            off["sms"] = f"text messages are off: {exc}"
    for reason in off.values():
        if " is off: " in reason:
            log.error("outbox: %s", reason)
    return senders, off


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)
