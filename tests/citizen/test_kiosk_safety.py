"""What must never happen at the kiosk, screen by screen with the test client: someone
else's card or ticket, a ticket twice or not at all, a way off the kiosk."""

import html
import re
import threading

import pytest
from sqlalchemy import text

from kiosk.checkin import CheckIn
from kiosk.citizen import views
from kiosk.citizen.flow import KEY as FLOW
from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from kiosk.pickups import import_pickups
from tests.citizen.screens import SITE_BRING, SITE_SERVICE, check_screen, flow_id
from tests.sites import site_variant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": False}


def take_ticket(client, page: str, **form):
    return client.post("/kiosk/check", data={"flow_id": flow_id(page), **form})


def waiting(app):
    with app.app_context():
        return office.queue.waiting()


def printed(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "tickets").glob("*.escpos"))


def reader_message(page: str) -> str:
    return re.search(r'class="reader-message"[^>]*>(.*?)</p>', page, re.S).group(1).strip()


# --- a card left in the reader, a card swapped -------------------------------------------


def test_a_card_left_in_the_reader_is_not_the_next_citizens(client, reader):
    page = check_screen(client, reader, "pin_reset", "adult-f-plus")  # citizen A
    assert take_ticket(client, page).headers["Location"].endswith("/kiosk/ticket")
    ticket_page = client.get("/kiosk/ticket").get_data(as_text=True)
    assert re.search(r"<p [^>]*data-take-card\s*>", ticket_page)  # shown, not hidden
    client.get("/kiosk/reset")
    home = client.get("/kiosk/").get_data(as_text=True)
    assert card_notice(home) == "left"

    client.get("/kiosk/visit?lang=en")
    identify = client.get("/kiosk/identify?visit=activation")  # citizen B, A's card still in
    assert identify.status_code == 200
    assert reader_message(identify.get_data(as_text=True)).startswith("There is still a card in the reader")
    reader.remove()
    reader.insert("type-h")
    assert client.get("/kiosk/identify").headers["Location"].endswith("/kiosk/check")
    check = client.get("/kiosk/check").get_data(as_text=True)
    assert "Card type H" in check and "F+" not in check
    reader.remove()
    assert card_notice(client.get("/kiosk/").get_data(as_text=True)) is None


def card_notice(page: str) -> str | None:
    """The card notice a start or visit screen shows: "own", "left" or None."""
    shown = re.findall(r'data-card-notice="(\w+)"\s*>', page)
    assert len(shown) <= 1, shown
    return shown[0] if shown else None


def test_a_card_put_in_first_is_the_citizens_own_and_goes_straight_to_the_check(client, reader):
    assert card_notice(client.get("/kiosk/").get_data(as_text=True)) is None
    reader.insert("type-h")  # before touching anything
    home = client.get("/kiosk/").get_data(as_text=True)
    assert card_notice(home) == "left"  # a start screen shown again after it: someone left it
    reader.remove()
    client.get("/kiosk/")
    reader.insert("type-h")
    visit = client.get("/kiosk/visit?lang=fr").get_data(as_text=True)
    assert card_notice(visit) == "own"
    assert "Votre carte est dans le lecteur" in visit
    identify = client.get("/kiosk/identify?visit=activation")
    assert identify.headers["Location"].endswith("/kiosk/check")
    check = client.get("/kiosk/check")
    assert check.status_code == 200 and "H" in check.get_data(as_text=True)


def test_the_start_screen_names_a_card_left_behind_in_every_language(app, client, reader):
    reader.insert("adult-f-plus")
    home = client.get("/kiosk/").get_data(as_text=True)
    assert card_notice(home) == "left"
    left = re.search(r'data-card-notice="left"\s*>(.*?)</div>', home, re.S).group(1)
    with app.app_context():
        assert sorted(re.findall(r'<p lang="(\w+)"', left)) == sorted(office.site.languages)
    client.get("/kiosk/visit?lang=en")
    assert client.get("/kiosk/identify?visit=activation").status_code == 200  # not taken for theirs
    assert client.get("/kiosk/check").headers["Location"].endswith("/kiosk/")


def test_the_check_screen_refuses_a_card_from_before_the_visit(client, reader):
    reader.insert("adult-f-plus")
    client.get("/kiosk/identify?visit=activation")
    response = client.get("/kiosk/check")
    assert response.headers["Location"].endswith("/kiosk/")
    with client.session_transaction() as session:
        assert FLOW not in session


def test_a_card_swapped_after_the_check_gets_no_ticket(app, client, reader):
    page = check_screen(client, reader, "pin_reset", "adult-f-plus")
    read = reader.snapshot().read
    assert f'data-card-version="{read}"' in page  # the screen's watcher leaves at another card
    reader.insert("pin-blocked")  # someone else's card, without a "no card" moment between
    response = take_ticket(client, page, confirmed=["card", "puk"])
    assert response.headers["Location"].endswith("/kiosk/")
    assert waiting(app) == []


def test_the_same_card_pulled_and_inserted_again_starts_over(app, client, reader):
    page = check_screen(client, reader, "pin_reset", "adult-f-plus")
    reader.remove()
    reader.insert("adult-f-plus")
    assert take_ticket(client, page).headers["Location"].endswith("/kiosk/")
    assert waiting(app) == []


# --- one ticket per screen -------------------------------------------------------------


def test_a_double_tap_gives_one_ticket(app, client, reader, tmp_path):
    page = check_screen(client, reader)
    first = take_ticket(client, page, confirmed=["card"])
    second = take_ticket(client, page, confirmed=["card"])
    assert first.headers["Location"] == second.headers["Location"]
    assert [t.number for t in waiting(app)] == ["C001"]
    assert ">C001<" in client.get("/kiosk/ticket").get_data(as_text=True)
    assert len(printed(tmp_path)) == 1


def test_two_posts_at_the_same_moment_give_one_ticket(app, reader, tmp_path):
    # two browsers' worth of requests carrying one session cookie, as a double tap sends them
    tapper = app.test_client()
    page = check_screen(tapper, reader)
    cookie = tapper.get_cookie("session").value
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        client.set_cookie("session", cookie)
    together = threading.Barrier(2)
    answers = []

    def tap(client):
        together.wait()
        response = take_ticket(client, page)
        answers.append((response.status_code, client.get("/kiosk/ticket").get_data(as_text=True)))

    threads = [threading.Thread(target=tap, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [t.number for t in waiting(app)] == ["C001"]
    assert [status for status, _ in answers] == [302, 302]
    assert all(">C001<" in ticket_page for _, ticket_page in answers)
    assert len(printed(tmp_path)) == 1


def test_a_screen_posted_with_another_flow_id_gets_nothing(app, client, reader):
    check_screen(client, reader)
    response = client.post("/kiosk/check", data={"flow_id": "not-this-screen", "confirmed": ["card"]})
    assert response.headers["Location"].endswith("/kiosk/")
    assert waiting(app) == []


# --- a ticket, once issued, always reaches the screen ----------------------------------


def test_a_failed_code_request_never_hides_the_ticket(app, client, reader, tmp_path, caplog):
    with app.app_context(), office.engine.begin() as conn:
        conn.execute(
            text("CREATE TRIGGER refuse BEFORE INSERT ON code_requests BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
        )
    page = check_screen(client, reader, "new_codes", "type-h")
    response = take_ticket(client, page, confirmed=["card", "fee"], contact="alex@example.org")
    assert response.headers["Location"].endswith("/kiosk/ticket")
    assert ">D001<" in client.get("/kiosk/ticket").get_data(as_text=True)
    assert len(printed(tmp_path)) == 1
    [ticket] = waiting(app)
    checkin = CheckIn.from_json(ticket.checkin)
    assert "code_request_not_recorded" in checkin.notes and checkin.code_request is None
    national_number = reader.snapshot().card.national_number
    assert "code request not recorded" in caplog.text
    assert national_number not in caplog.text and "alex@" not in caplog.text


def test_the_ticket_screen_shows_the_number_even_when_the_database_fails(app, client, reader):
    page = check_screen(client, reader)
    take_ticket(client, page)
    with app.app_context(), office.engine.begin() as conn:
        conn.execute(text("ALTER TABLE tickets RENAME TO tickets_away"))
    ticket_page = client.get("/kiosk/ticket").get_data(as_text=True)
    assert ">C001<" in ticket_page and 'data-idle-seconds="180"' in ticket_page


# --- errors stay in the kiosk ----------------------------------------------------------


def is_kiosk_error_page(page: str) -> bool:
    return (
        'href="/kiosk/reset"' in page
        and "kiosk.js" in page
        and 'data-idle-seconds="60"' in page
        and 'href="/"' not in page
    )


def test_an_unknown_kiosk_address_stays_in_the_kiosk(client):
    response = client.get("/kiosk/nowhere?lang=fr")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert is_kiosk_error_page(page) and "Cette page n'existe pas" in html.unescape(page)


def test_a_failing_screen_gives_the_kiosk_error_page(client, reader, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise TypeError("a screen's own bug")

    monkeypatch.setattr(views, "checklist_items", broken)
    check = client.get("/kiosk/identify?visit=pin_reset")
    reader.insert("adult-f-plus")
    response = client.get("/kiosk/check")
    assert check.status_code == 200 and response.status_code == 500
    assert is_kiosk_error_page(response.get_data(as_text=True))
    assert "TypeError" in caplog.text


@pytest.mark.parametrize(
    "cookie",
    [
        {FLOW: {"visit": ["pickup"], "reader_after": 0}},  # a flow this version cannot read
        {FLOW: {"visit": "pin_reset", "shoe_size": 42}},
        {FLOW: "pin_reset"},
        {"visit": "pin_reset", "reader_after": 0, "typed_number": "85073003328"},  # before the flow was one value
    ],
)
def test_a_session_from_another_version_starts_again(client, reader, cookie):
    reader.insert("adult-f-plus")
    with client.session_transaction() as session:
        session.update(cookie)
    assert client.get("/kiosk/check").headers["Location"].endswith("/kiosk/")
    client.get("/kiosk/reset")
    with client.session_transaction() as session:
        assert not set(cookie) & set(session)  # the reset drops what an older version kept too


def test_a_visit_the_site_no_longer_offers_is_forgotten(client, reader):
    reader.insert("adult-f-plus")
    with client.session_transaction() as session:
        session[FLOW] = {"visit": "passport", "reader_after": 0}
    assert client.get("/kiosk/check").headers["Location"].endswith("/kiosk/")
    with client.session_transaction() as session:
        assert FLOW not in session


def test_json_endpoints_keep_json_errors(client):
    response = client.get(
        "/kiosk/card", environ_base={"REMOTE_ADDR": "192.0.2.10"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


# --- texts -----------------------------------------------------------------------------


def test_every_reader_state_has_a_message_on_the_identify_screen(client):
    from hardware.card import ReaderError, ReaderState

    page = client.get("/kiosk/identify?visit=activation&lang=fr").get_data(as_text=True)
    # an error state shows its error's message
    keys = {str(s) for s in ReaderState if s != ReaderState.ERROR} | {str(e) for e in ReaderError} | {"left_card"}
    for key in keys:
        assert re.search(rf'data-msg-{key}="[^"]+"', page), key
    down = re.search(r'data-msg-pcsc_down="([^"]+)"', page).group(1)
    assert down == re.search(r'data-msg-reader_gone="([^"]+)"', page).group(1)
    assert "lecteur" in down  # in the citizen's language


@pytest.mark.parametrize("typed, message", [("8", "You typed 1 digit."), ("850730", "You typed 6 digits.")])
def test_the_digit_count_is_singular_or_plural(client, typed, message):
    client.get("/kiosk/identify/number?visit=pickup&lang=en")
    page = client.post("/kiosk/identify/number", data={"national_number": typed}).get_data(as_text=True)
    assert message in page


def test_ticks_survive_a_form_error(client, reader):
    page = check_screen(client, reader, "new_codes", "type-h")
    again = take_ticket(client, page, confirmed=["fee"], contact="alex@").get_data(as_text=True)
    assert re.search(r'value="fee"\s*checked', again)
    assert not re.search(r'value="card"\s*checked', again)


# --- typed national numbers ------------------------------------------------------------


@pytest.fixture
def register(app):
    with app.app_context():
        today = office.queue.today()
        import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())


def typed(client, number: str) -> str:
    client.get("/kiosk/identify/number?visit=pickup&lang=en")
    client.post("/kiosk/identify/number", data={"national_number": number})
    return client.get("/kiosk/check").get_data(as_text=True)


def test_a_typed_number_does_not_say_what_the_register_holds(client, register, reader):
    page = typed(client, "85073099239")  # in the register
    assert "ready for you" not in page
    assert "The counter will check your police certificate and your new card." in page


def test_a_typed_number_gets_the_same_screen_whether_the_register_holds_it_or_not(app, register, reader):
    def screen(number: str) -> str:
        page = typed(app.test_client(), number)
        return re.sub(r'name="(csrf_token|flow_id)"[^>]*value="[^"]+"', "", page)  # one per screen

    in_register, not_in_register = screen("85073099239"), screen("90010100123")
    assert in_register == not_in_register and "take-ticket" in in_register


def test_numbers_typed_at_the_keypad_are_limited_per_kiosk(app, register):
    from kiosk.throttle import TYPED_NUMBERS

    allowed = int(TYPED_NUMBERS.split("/")[0])
    for _ in range(allowed):  # even from fresh sessions: the limit is the kiosk's, not a cookie's
        client = app.test_client()
        client.get("/kiosk/identify/number?visit=pickup&lang=en")
        assert client.post("/kiosk/identify/number", data={"national_number": "90010100123"}).status_code == 302
    client = app.test_client()
    client.get("/kiosk/identify/number?visit=pickup&lang=en")
    refused = client.post("/kiosk/identify/number", data={"national_number": "85073099239"})
    assert refused.status_code == 429
    assert "Too many numbers were typed at this kiosk. Please ask at the counter." in refused.get_data(as_text=True)


class TestTicketWithoutPickup:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {
            **app_config,
            "SITE": str(
                site_variant(tmp_path, ("idle_seconds = 60", "idle_seconds = 60\nticket_without_pickup = true"))
            ),
        }

    def test_the_register_is_not_mentioned_for_a_typed_number(self, client, register):
        page = typed(client, "90010100123")
        assert "could not find your new card" not in page and "take-ticket" in page


# --- the site's own services and texts -------------------------------------------------


class TestSiteProfile:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SITE": str(site_variant(tmp_path, SITE_SERVICE, *SITE_BRING))}

    def test_a_site_service_gives_a_ticket_without_a_card(self, app, client, reader):
        visits = client.get("/kiosk/visit?lang=en").get_data(as_text=True)
        assert 'href="/kiosk/confirm?visit=residence_certificate"' in visits
        assert client.get("/kiosk/identify?visit=residence_certificate").headers["Location"].endswith("/kiosk/confirm")
        page = client.get("/kiosk/confirm").get_data(as_text=True)
        assert "Certificate of residence" in page and "Your passport" in page and "A recent photo" in page
        assert "DOC STOP" not in page
        response = client.post("/kiosk/confirm", data={"flow_id": flow_id(page), "confirmed": ["site_0"]})
        assert response.headers["Location"].endswith("/kiosk/ticket")
        [ticket] = waiting(app)
        assert (ticket.number, ticket.service) == ("E001", "residence_certificate")
        assert ticket.checkin["confirmed"] == ["site_0"] and ticket.checkin["missing"] == ["site_1"]
        again = client.post("/kiosk/confirm", data={"flow_id": flow_id(page), "confirmed": ["site_0"]})
        assert again.headers["Location"].endswith("/kiosk/ticket") and len(waiting(app)) == 1

    def test_a_lost_card_pickup_keeps_the_certificate_beside_the_sites_list(self, client, register):
        client.get("/kiosk/identify/number?visit=pickup&lang=nl")
        client.post("/kiosk/identify/number", data={"national_number": "85073099239"})
        page = client.get("/kiosk/check").get_data(as_text=True)
        items = re.findall(r'name="confirmed" value="(\w+)"', page)
        assert items == ["police_certificate", "code_letter", "site_0"]
        assert "je huidige kaart" in page

    def test_the_fee_stays_on_the_checklist(self, client, reader):
        client.get("/kiosk/visit?lang=nl")
        page = check_screen(client, reader, "new_codes", "type-h")
        assert re.findall(r'name="confirmed" value="(\w+)"', page) == ["card", "fee", "site_0"]
        assert "5,00" in page


def test_an_expired_card_gets_no_codes_and_is_told_why(app, client, reader):
    client.get("/kiosk/visit?lang=en")
    page = check_screen(client, reader, "pin_reset", "expired")
    assert "Your card has expired" in page and "DOC STOP" not in page and "take-ticket" not in page
