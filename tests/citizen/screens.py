"""Walking the kiosk's screens, with Flask's test client or in the browser, as the touch screen would."""

import re

from playwright.sync_api import expect


def flow_id(page: str) -> str:
    return re.search(r'name="flow_id"[^>]*value="([^"]+)"', page).group(1)


def check_screen(client, reader, visit: str = "pin_reset", card: str = "adult-f-plus") -> str:
    """Choose the visit, insert the card, open the check screen; its page."""
    client.get(f"/kiosk/identify?visit={visit}")
    reader.insert(card)
    response = client.get("/kiosk/check")
    assert response.status_code == 200, response.headers.get("Location")
    return response.get_data(as_text=True)


# Site profile changes (tests.sites.site_variant): a service of the site's own, and the
# site's own "bring" texts for two built-in visits.
SITE_SERVICE = (
    "[[counters]]\nnumber = 1",
    """[[services]]
id = "residence_certificate"
letter = "E"
fee_cents = 300
minutes = 3
name = { en = "Certificate of residence", nl = "Attest van woonst" }
bring = { en = ["Your passport", "A recent photo"] }

[[counters]]
number = 1""",
)
SITE_BRING = (
    ('id = "pickup"\nletter = "A"', 'id = "pickup"\nletter = "A"\nbring = { nl = ["je huidige kaart"] }'),
    ('id = "new_codes"\nletter = "D"', 'id = "new_codes"\nletter = "D"\nbring = { nl = ["je verblijfskaart"] }'),
)


def through_the_visits(kiosk, reader, base: str, cards, look) -> None:
    """Each (visit, card) of `cards`: its identify and check screens, and after the PIN reset
    the ticket screen; `look(name)` on each as it opens, then the card out again."""
    for visit, card in cards:
        kiosk.goto(base + f"/kiosk/identify?visit={visit}")
        look(f"identify {visit}")
        reader.insert(card)
        expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
        look(f"check {visit} {card}")
        if visit == "pin_reset":
            kiosk.locator(".take-ticket").tap()
            expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
            look("ticket")
        reader.remove()
        expect(kiosk).to_have_url(re.compile(r"/kiosk/(ticket)?$"))
