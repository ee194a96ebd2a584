"""Demo data: citizens already waiting, and new cards ready for some of the fake cards, so
every screen has something to show."""
from hardware.card import read_residence_card
from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import fake_cards

from .accounts.users import create_user
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
        rows.append(f'DEMO{n:08d},{card.national_number},"{card.last_name}, {card.given_names}",'
                    f'"{storage}",{today.isoformat()}')
    return ("\n".join(rows) + "\n").encode()


def load_demo_data() -> None:
    queue = office.queue
    if queue.version():  # already has history: leave it
        return
    today = queue.today()
    import_pickups(office.engine, demo_pickups_csv(today), today)
    for username, role in DEMO_USERS.items():
        create_user(office.engine, username, role, DEMO_PASSWORD, queue.clock())
    for service in DEMO_WAITING:
        queue.issue(service, language=office.site.default_language)
