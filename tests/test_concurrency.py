"""20 issuers and 10 callers at once through the engine: numbers unique, no double call, none lost."""

import dataclasses
import threading
from collections import Counter

from sqlalchemy import select

from kiosk.queue import QueueEngine
from kiosk.schema import ticket_events, tickets

ISSUERS, TICKETS_EACH, CALLERS = 20, 25, 10
SERVICES = ["pickup", "activation", "pin_reset", "new_codes"]


def test_concurrent_issue_and_call(queue):
    every_service = tuple(SERVICES)
    rules = dataclasses.replace(queue.rules, counters={n: every_service for n in range(1, CALLERS + 1)})
    engine = QueueEngine(queue.engine, rules, queue.clock)
    errors, issued, called = [], [], []
    issuing_done = threading.Event()
    start = threading.Barrier(ISSUERS + CALLERS)

    def issuer(n):
        try:
            start.wait()
            for i in range(TICKETS_EACH):
                ticket, _ = engine.issue(SERVICES[(n + i) % 4], language="nl")
                issued.append(ticket.id)
        except Exception as exc:  # noqa: BLE001 - collected: a thread's exception would otherwise vanish
            errors.append(exc)

    def caller(counter):
        try:
            start.wait()
            while True:
                finished_issuing = issuing_done.is_set()
                ticket = engine.call_next(counter)
                if ticket is not None:
                    called.append(ticket.id)
                elif finished_issuing:
                    return
        except Exception as exc:  # noqa: BLE001 - collected: a thread's exception would otherwise vanish
            errors.append(exc)

    issuers = [threading.Thread(target=issuer, args=(n,)) for n in range(ISSUERS)]
    callers = [threading.Thread(target=caller, args=(c,)) for c in range(1, CALLERS + 1)]
    for thread in issuers + callers:
        thread.start()
    for thread in issuers:
        thread.join(timeout=120)
    issuing_done.set()
    for thread in callers:
        thread.join(timeout=120)

    assert errors == []
    assert len(issued) == ISSUERS * TICKETS_EACH
    with queue.engine.connect() as conn:
        rows = conn.execute(select(tickets.c.id, tickets.c.number, tickets.c.service, tickets.c.day)).all()
        calls = Counter(
            conn.execute(select(ticket_events.c.ticket_id).where(ticket_events.c.kind == "called")).scalars()
        )
    assert len(rows) == ISSUERS * TICKETS_EACH  # none lost
    numbers = Counter((r.day, r.number) for r in rows)
    assert max(numbers.values()) == 1  # unique per day (the letter is the service)
    per_service = Counter(r.service for r in rows)
    for service, count in per_service.items():
        letter = engine.rules.services[service].letter
        expected = {f"{letter}{i:03d}" for i in range(1, count + 1)}
        assert {r.number for r in rows if r.service == service} == expected  # no gaps
    assert sorted(called) == sorted(issued)  # every ticket called ...
    assert set(calls.values()) == {1}  # ... exactly once
