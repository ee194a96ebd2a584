"""A card waiting long: a reminder message where the register file gave a contact, sent once
by the day's housekeeping and received by a real SMTP server; a printed letter for the
others. The contact is checked as the file's other fields are, kept when a file without it
comes in, and dropped when the card is handed over."""

import datetime as dt
import threading

import pytest

from kiosk import outbox, pickups
from kiosk.extensions import office
from kiosk.housekeeping import close_day
from kiosk.schema import outbox as outbox_table
from tests.desk.conftest import SignedIn
from tests.mail import mail_config

HEADER = "card_number,national_number,name,storage,arrived_on,contact,language\n"
ROWS = [
    'B123456789,85073003328,"Testperson, Alex",Kast A,2026-10-01,,\n',  # waits long, no contact
    'B987654321,90010100123,"Voorbeeld, Sam",Kast B,2026-10-01,sam@example.org,FR\n',  # waits long
    'B555555555,88052199960,"Proef, Kim",Kast C,2026-11-20,+32470123456,\n',  # arrived recently
]
TODAY = dt.date(2026, 11, 24)  # the clock fixture's


@pytest.fixture
def app_config(tmp_path, clock, mailbox, monkeypatch):
    mailbox.start()
    return mail_config(tmp_path, clock, monkeypatch, mailbox.port)


def test_a_contact_and_its_language_come_with_the_file_and_are_checked():
    rows = pickups.parse_pickups((HEADER + "".join(ROWS)).encode(), TODAY)
    assert [(row.contact_kind, row.contact, row.language) for row in rows] == [
        (None, None, None),
        ("email", "sam@example.org", "fr"),
        ("phone", "+32470123456", None),
    ]
    bad = HEADER + ROWS[0].replace(",,\n", ",0470 12,xx\n") + ROWS[1].replace("sam@example.org", "sam@")
    with pytest.raises(pickups.PickupImportError) as refused:
        pickups.parse_pickups(bad.encode(), TODAY)
    assert refused.value.problems == [
        "line 2: contact is not a phone number we can send a text message to; "
        "language must be one of nl, fr, de, en, ar, uk, tr, ru, pl, ro, es, it, pt, bg, fa",
        "line 3: contact is not an e-mail address we can write to",
    ]


def reminders_written(app) -> list:
    with app.app_context(), office.engine.connect() as conn:
        return conn.execute(outbox_table.select().where(outbox_table.c.template == "pickup_reminder")).all()


def day_closed(app, clock, **later) -> int:
    clock.advance(**later)
    with app.app_context():
        return close_day(office).pickup_reminders


def test_the_reminder_is_a_message_where_there_is_a_contact_and_a_letter_otherwise(app, client, staff, clock, mailbox):
    with app.app_context():
        pickups.import_pickups(office.engine, (HEADER + "".join(ROWS)).encode(), TODAY, clock())
        # the card producer's file, without contacts, leaves them as they were
        plain = "card_number,national_number,name,storage,arrived_on\n" + ROWS[1].rsplit(",", 2)[0] + "\n"
        pickups.import_pickups(office.engine, plain.encode(), TODAY, clock())
    assert day_closed(app, clock, minutes=1) == 1
    (written,) = reminders_written(app)
    assert (written.address, written.language, written.channel) == ("sam@example.org", "fr", "email")
    assert outbox.Worker(app).work_once() == 1
    mail = mailbox.received[0]
    assert mail["To"] == "sam@example.org" and mail["Content-Language"] == "fr"
    assert b"90010100123" not in mailbox.raw[0] and b"Voorbeeld" not in mailbox.raw[0]

    listed = SignedIn(client, "clerk").get("/api/pickups").get_json()["pickups"]
    assert {p["card_number"]: p["reminder_by"] for p in listed} == {
        "B123456789": "letter",
        "B987654321": "email",
        "B555555555": "phone",
    }
    # the letters are for the card without a contact
    letters = SignedIn(client, "supervisor").client.get("/office/pickups/reminders").get_data(as_text=True)
    assert "B123456789" in letters and "B987654321" not in letters
    assert day_closed(app, clock, days=1) == 0  # reminded: not again the next day
    # again after as many days, and the card that arrived on 2026-11-20 by text message
    assert day_closed(app, clock, days=30) == 2
    assert sorted(m.channel for m in reminders_written(app)) == ["email", "email", "sms"]
    with app.app_context():
        assert pickups.mark_collected(office.engine, "B987654321", "clerk", clock())
        (collected,) = pickups.entries(office.engine, "collected", "B987654321")
    assert (collected.contact, collected.contact_kind) == (None, None)
    assert day_closed(app, clock, days=31) == 1  # the text message's card only


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_instances_at_their_housekeeping_together_remind_each_card_once(app, clock):
    many = [f'C{n:09d},90010100123,"Voorbeeld, Sam",Kast B,2026-10-01,sam{n}@example.org,\n' for n in range(40)]
    with app.app_context():
        pickups.import_pickups(office.engine, (HEADER + "".join(many)).encode(), TODAY, clock())
        engine = office.engine
    together = threading.Barrier(2)
    counts: list[int] = []

    def housekeeping() -> None:
        together.wait(timeout=30)
        counts.append(pickups.send_reminders(engine, TODAY, 30, "nl", clock()))

    instances = [threading.Thread(target=housekeeping) for _ in range(2)]
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.join(timeout=60)
    assert sum(counts) == 40 and len(reminders_written(app)) == 40
    assert len({m.address for m in reminders_written(app)}) == 40
