"""The kiosk flow's state: one value in the (signed) session, under one key, so that the
privacy reset drops all of it at once. The language is not part of it: it outlives a flow
until the screen goes back home. A typed national number is sealed (kiosk.sealing): the
cookie is signed, not secret."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from ..sealing import seal, unseal
from ..ticketing import Issued

KEY = "flow"
# The keys the flow had before it was one value: a cookie from then still holds them.
LOOSE_KEYS = (
    "visit",
    "lost",
    "typed_number",
    "reader_after",
    "card_version",
    "card_key",
    "flow_id",
    "ticket",
    "ticket_number",
    "print_failed",
)


@dataclass
class Flow:
    visit: str | None = None  # the service chosen
    lost: bool = False  # a pickup after loss or theft: the national number is typed
    typed_number: str | None = None
    reader_after: int | None = None  # the reader's version when the visit was chosen
    card_version: int | None = None  # the card the check screen was shown for:
    card_key: str | None = None  # its version and a keyed hash of its number
    flow_id: str | None = None  # the screen's one ticket (kiosk.ticketing)
    ticket: Issued | None = None  # the ticket shown on the ticket screen
    doc_stop: str | None = None  # a card found again: the ISO day it was blocked with DOC STOP

    @classmethod
    def load(cls, session: Mapping[str, Any]) -> Flow:
        """The session's flow; a new one when there is none, or one this version cannot read
        (a cookie from another version): the citizen starts again rather than sees an error."""
        data = session.get(KEY)
        if not isinstance(data, Mapping):
            return cls()
        try:
            ticket = data.get("ticket")
            flow = cls(**{**data, "ticket": None if ticket is None else Issued(**ticket)})
        except TypeError:
            return cls()
        if not flow._well_typed():
            return cls()
        if flow.typed_number is not None:
            flow.typed_number = unseal(flow.typed_number)
            if flow.typed_number is None:  # not sealed by us, or from a visit long gone
                return cls()
        return flow

    def save(self, session: MutableMapping[str, Any]) -> None:
        data = dataclasses.asdict(self)
        if self.typed_number is not None:
            data["typed_number"] = seal(self.typed_number)
        session[KEY] = data

    @staticmethod
    def forget(session: MutableMapping[str, Any]) -> None:
        session.pop(KEY, None)
        for key in LOOSE_KEYS:
            session.pop(key, None)

    def _well_typed(self) -> bool:
        ticket = self.ticket
        return (
            all(
                _is(value, str) for value in (self.visit, self.typed_number, self.card_key, self.flow_id, self.doc_stop)
            )
            and (self.doc_stop is None or _is_date(self.doc_stop))
            and all(_is(value, int) for value in (self.reader_after, self.card_version))
            and _is(self.lost, bool, optional=False)
            and (
                ticket is None
                or (
                    _is(ticket.ticket_id, int, optional=False)
                    and _is(ticket.number, str, optional=False)
                    and _is(ticket.print_failed, bool, optional=False)
                )
            )
        )


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is(value: Any, kind: type, *, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
