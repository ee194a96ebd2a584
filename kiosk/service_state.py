"""Whether this kiosk can serve citizens, and if not, why: codes only, no personal data."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from hardware.card import ReaderState

from . import storage
from .errors import is_database_down
from .extensions import office

# Reader errors that mean the reader itself is unusable, not just the card in it.
READER_DOWN = {"no_reader", "reader_gone", "pcsc_down"}


def reasons(include_held: bool = True) -> list[str]:
    """What keeps this kiosk from serving citizens: staff took it out of service (`staff`),
    the database or its disk, the card reader, or the printer where tickets must print."""
    found = []
    if include_held and office.member.held is not None:
        found.append("staff")
    try:
        office.queue.version()
    except DBAPIError as exc:
        if not is_database_down(exc):
            raise
        found.append("database")
    if storage.disk_trouble(office.engine):  # full or read-only: no ticket could be kept
        found.append("storage")
    snapshot = office.reader.snapshot()
    if snapshot.state == ReaderState.NO_READER or (snapshot.error and str(snapshot.error) in READER_DOWN):
        found.append("reader")
    if not office.site.kiosk.screen_only_tickets and not office.printer.check_status().ready:
        found.append("printer")
    return found
