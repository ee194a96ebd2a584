"""The log of "show in full": which staff member saw which ticket's identity, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert

from .schema import disclosures
from .storage import writing


def record_disclosure(engine: Engine, ticket_id: int, username: str, at: dt.datetime) -> None:
    """`at` is the office's time (Office.clock), like every time stamped."""
    with writing(engine) as conn:
        conn.execute(insert(disclosures).values(ticket_id=ticket_id, username=username, at=at))
