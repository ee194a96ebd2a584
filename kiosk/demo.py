"""Demo data: citizens already waiting, and new cards ready for some of the fake cards, so
every screen has something to show.

The demo runs with any site profile (KIOSK_SITE, e.g. one with a printer fault to try); the
data is loaded where it fits that profile, and what is left out is said with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.card import read_residence_card
from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import fake_cards

from .accounts.users import AccountError, create_user
from .extensions import office
from .pickups import import_pickups

DEMO_WAITING = ["pickup", "activation", "pickup", "pin_reset", "new_codes", "pickup"]
# fake card id -> where its new card is stored
# Demo sign-ins, printed when the demo starts: never use these in an office.
DEMO_USERS = {"clerk": "clerk", "supervisor": "supervisor", "facility": "facility"}
DEMO_PASSWORD = "demo-demo-demo"
DEMO_PICKUPS = {"adult-f-plus": "Kast A, lade 2", "minor-17": "Kast B, lade 1", "type-l": "Kast A, lade 5"}


def demo_pickups_csv(today) -> bytes:
    cards = fake_cards(today)
    rows = ["card_number,national_number,name,storage,arrived_on"]
    for n, (card_id, storage) in enumerate(DEMO_PICKUPS.items(), start=1):
        card = read_residence_card(EidApplet(cards[card_id]))
        rows.append(
            f'DEMO{n:08d},{card.national_number},"{card.last_name}, {card.given_names}","{storage}",{today.isoformat()}'
        )
    return ("\n".join(rows) + "\n").encode()


@dataclass
class DemoData:
    """What `load_demo_data` put into the database, and what it left out and why."""

    pickups: int = 0
    users: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # ticket numbers
    left_out: list[str] = field(default_factory=list)


def load_demo_data() -> DemoData:
    """Load the demo data into an office without history; a second start keeps what is there."""
    queue, site = office.queue, office.site
    loaded = DemoData()
    if queue.version():  # already has history: leave it
        loaded.left_out.append("the database already has a queue history: nothing added")
        return loaded
    today = queue.today()
    if "pickup" in site.services:
        loaded.pickups = import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())
    else:
        loaded.left_out.append("pickup register: the site profile has no pickup service")
    for username, role in DEMO_USERS.items():
        try:
            create_user(office.engine, username, role, DEMO_PASSWORD, office.clock())
        except AccountError:  # kept from an earlier start
            continue
        loaded.users.append(username)
    services = [s for s in DEMO_WAITING if s in site.services and site.services[s].enabled]
    if missing := sorted(set(DEMO_WAITING) - set(services)):
        loaded.left_out.append(f"waiting tickets for {', '.join(missing)}: not offered by the site profile")
    if not queue.rules.is_open(office.clock()):
        loaded.left_out.append("waiting tickets: the office is closed now by the site profile's opening hours")
        services = []
    for service in services:
        ticket, _place = queue.issue(service, language=site.default_language)
        loaded.waiting.append(ticket.number)
    return loaded
