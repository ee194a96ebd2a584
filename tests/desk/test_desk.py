"""The desk's state, "show in full" with its log, and reprint."""

import pytest
from sqlalchemy import select

from kiosk.checkin import CheckIn, clerk_view, mask_name, mask_national_number
from kiosk.extensions import office
from kiosk.schema import disclosures
from tests.conftest import bearer
from tests.desk.conftest import (
    CHECKIN,
    NAME,
    NATIONAL_NUMBER,
    PERSONAL,
    SITE_SERVICE_AT_COUNTER_1,
    SignedIn,
    form_csrf,
    issue,
)
from tests.sites import site_variant

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    "value, masked",
    [
        ("85073003328", "85.07.30-***.**"),
        ("85.07.30-033.28", "85.07.30-***.**"),
        ("123", "**.**.**-***.**"),
    ],
)
def test_national_number_keeps_only_the_birth_date(value, masked):
    assert mask_national_number(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("Testperson, Jan", "T***, J***"),
        ("Van Damme, Jean Luc", "V*** D***, J*** L***"),
        ("Madonna", "M***"),
        (",", "***"),
    ],
)
def test_names_keep_only_initials(value, masked):
    assert mask_name(value) == masked


def test_clerk_view_drops_what_it_does_not_expect():
    view = clerk_view(
        CheckIn.from_json(
            {
                "visit": 7,
                "name": 42,
                "confirmed": ["card", 3],
                "notes": "pin_blocked",
                "missing": [None, "puk"],
                "card": "F+",
                "age": True,
                "pickup": {"storage": "Kast A", "extra": {"x": 1}},
                "code_request": {"id": "12", "contact": 5},
            }
        )
    )
    assert view["visit"] is None and view["name"] is None and view["card"] is None
    assert view["confirmed"] == ["card"] and view["missing"] == ["puk"] and view["notes"] == []
    assert view["age"] is None and view["pickup"] == {"storage": "Kast A"} and view["code_request"] is None
    assert clerk_view(None) == clerk_view(CheckIn.from_json(None)) == clerk_view(CheckIn.from_json([1]))
    assert clerk_view(None)["confirmed"] == [] and clerk_view(None)["card"] is None
    assert clerk_view(CheckIn.from_json({"visit": "residence_certificate"}))["visit"] == "residence_certificate"


@sqlite_only
def test_the_desk_sees_who_waits_and_the_called_ticket_masked(app, clerk, clock):
    issue(app, "pickup")
    clock.advance(seconds=90)
    issue(app, "activation")
    issue(
        app,
        "new_codes",
        {**CHECKIN, "visit": "new_codes", "pickup": None, "code_request": {"id": 12, "contact": "e-mail"}},
    )
    clock.advance(seconds=30)
    clerk.post("/api/counters/2/open", json={"services": ["pickup"]})
    state = clerk.get("/desk/2/state").get_json()
    assert state["counter"] == {
        "number": 2,
        "open": True,
        "services": ["pickup"],
        "may_serve": ["pickup", "activation"],
    }
    clerk.post("/api/counters/2/close")
    closed = clerk.get("/desk/2/state").get_json()["counter"]
    assert (closed["open"], closed["services"]) == (False, ["pickup"])  # what it serves when it opens again
    clerk.post("/api/counters/2/open", json={"services": ["pickup"]})
    waiting = {s["service"]: s for s in state["waiting"]}
    assert waiting["pickup"]["served"] and not waiting["activation"]["served"]
    assert waiting["pickup"]["tickets"] == [{"number": "A001", "priority": False, "waited_s": 120}]
    assert waiting["activation"]["count"] == 1 and waiting["activation"]["tickets"][0]["waited_s"] == 30

    called = clerk.post("/api/counters/2/call-next").get_json()
    state = clerk.get("/desk/2/state").get_json()
    current = state["current"]
    assert (current["id"], current["number"], current["status"]) == (called["id"], "A001", "called")
    checkin = current["checkin"]
    assert checkin["name"] == "T***, J***" and checkin["national_number"] == "85.07.30-***.**"
    assert checkin["pickup"] == {"storage": "Kast B, lade 3", "card_number": "B123456789"}
    assert checkin["visit_name"] == "Pick up your new residence card" and checkin["notes"] == []
    assert checkin["confirmed"] == ["Your current residence card", "The letter with your PIN and PUK codes"]
    assert checkin["card"] == {"type": "F+", "expired": False}
    text = clerk.get("/desk/2/state").get_data(as_text=True)
    assert NATIONAL_NUMBER not in text and "Testperson" not in text

    clerk.post(f"/api/tickets/{called['id']}/park")
    state = clerk.get("/desk/2/state").get_json()
    assert state["current"] is None and [t["number"] for t in state["parked"]] == ["A001"]

    clerk.post("/api/counters/3/open", json={"services": ["new_codes"]})
    code_request = clerk.post("/api/counters/3/call-next").get_json()
    assert code_request["number"] == "D001"
    assert clerk.get("/desk/3/state").get_json()["current"]["checkin"]["code_request"] == {
        "id": 12,
        "contact": "e-mail",
    }


def clerk_in(client, accept_language: str) -> SignedIn:
    """A clerk whose browser asks for this language: staff pages follow it."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return SignedIn(client, "clerk")


def called_checkin(clerk, counter: int) -> dict:
    clerk.post(f"/api/counters/{counter}/call-next")
    return clerk.get(f"/desk/{counter}/state").get_json()["current"]["checkin"]


@pytest.mark.parametrize(
    ("accept_language", "contact", "told"),
    [
        ("en", "0470 12 34 56", "the citizen is told by text message at +32 470 12 34 56"),
        ("nl-BE,nl;q=0.9", "jan@example.org", "de burger krijgt een e-mail op jan@example.org"),
        ("en", "", "no contact left: the office writes"),
    ],
)
def test_the_desk_shows_how_the_citizen_is_told_of_the_codes_in_the_clerks_language(
    app, client, staff, accept_language, contact, told
):
    from kiosk import code_requests

    checkin = {**CHECKIN, "visit": "new_codes", "pickup": None, "code_request": {"id": 1, "contact": "phone"}}
    ticket = issue(app, "new_codes", checkin)
    with app.app_context():
        assert code_requests.record(office.engine, ticket["id"], NATIONAL_NUMBER, contact, office.clock()).id == 1
    clerk = clerk_in(client, accept_language)
    clerk.post("/api/counters/3/open", json={"services": ["new_codes"]})
    clerk.post("/api/counters/3/call-next")
    request = clerk.get("/desk/3/state").get_json()["current"]["checkin"]["code_request"]
    assert (request["id"], request["state"], request["told"]) == (1, "requested", told)


@sqlite_only
@pytest.mark.parametrize(
    "accept_language, expected",
    [
        (
            "nl-BE,nl;q=0.9",
            {
                "visit_name": "Nieuwe PIN- en PUK-code",
                "notes": [
                    "Laat de kostprijs betalen; de nieuwe codes komen na ongeveer twee weken",
                    "De aanvraag van codes is niet geregistreerd: registreer ze manueel",
                ],
                "confirmed": ["Je verblijfskaart"],
                "missing": "De kostprijs: ",
            },
        ),
        (
            "fr-BE,fr;q=0.9",
            {
                "visit_name": "Nouveaux codes PIN et PUK",
                "notes": [
                    "Encaisser le montant\u00a0; les nouveaux codes arrivent dans deux semaines environ",
                    "La demande de codes n'a pas été enregistrée\u00a0: enregistrez-la à la main",
                ],
                "confirmed": ["Votre carte de séjour"],
                "missing": "Le montant\u00a0: ",
            },
        ),
    ],
)
def test_the_clerk_reads_an_arabic_citizens_checkin_in_their_own_language(
    app, client, staff, accept_language, expected
):
    issue(
        app,
        "new_codes",
        {
            **CHECKIN,
            "visit": "new_codes",
            "pickup": None,
            "notes": ["fee_and_delay", "code_request_not_recorded"],
            "confirmed": ["card"],
            "missing": ["fee"],
        },
        language="ar",
    )
    checkin = called_checkin(clerk_in(client, accept_language), 3)
    assert {key: checkin[key] for key in ("visit_name", "notes", "confirmed")} == {
        key: expected[key] for key in ("visit_name", "notes", "confirmed")
    }
    [fee] = checkin["missing"]
    assert fee.startswith(expected["missing"]) and "5,00" in fee
    assert checkin["name"] == "T***, J***" and checkin["national_number"] == "85.07.30-***.**"


@sqlite_only
def test_every_note_reaches_the_desk_as_what_to_do(app, clerk):
    notes = [
        "pin_blocked",
        "minor_authentication_only",
        "pin_not_blocked",
        "pin_tries_unknown",
        "expired",
        "expires_before_codes",
        "not_in_register",
        "code_request_not_recorded",
        "a_newer_note",
    ]
    issue(app, "pin_reset", {**CHECKIN, "visit": "pin_reset", "pickup": None, "notes": notes})
    assert called_checkin(clerk, 1)["notes"] == [
        "PIN blocked",
        "Under 18: only the authentication certificate",
        "PIN not blocked: try it with the citizen first",
        "PIN state unknown: check whether it is blocked",
        "Card expired: its certificates cannot be activated",
        "The card expires before the new codes arrive",
        "Not found in the pickup register: look for the new card",
        "The code request was not recorded: record it by hand",
        "a_newer_note",  # from a newer kiosk: shown rather than hidden
    ]


@sqlite_only
def test_a_check_in_stored_as_texts_still_shows_as_it_is(app, client, staff):
    issue(
        app,
        "pickup",
        {**CHECKIN, "confirmed": ["Je huidige verblijfskaart"], "missing": ["Your PUK code"], "notes": None},
    )
    checkin = called_checkin(clerk_in(client, "fr"), 1)
    assert checkin["confirmed"] == ["Je huidige verblijfskaart"] and checkin["missing"] == ["Your PUK code"]
    assert checkin["notes"] == [] and checkin["visit_name"] == "Retirer votre nouvelle carte de séjour"


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_check_in_stored_before_versions_shows_as_before(app, clerk):
    with app.app_context():  # as a kiosk of the version before wrote it: no "v"
        old, _place = office.queue.issue("pickup", language="nl", checkin=CHECKIN)
    assert "v" not in CHECKIN
    checkin = called_checkin(clerk, 1)
    assert checkin["name"] == "T***, J***" and checkin["national_number"] == "85.07.30-***.**"
    assert checkin["card"] == {"type": "F+", "expired": False} and checkin["pin_tries_left"] == 3
    assert checkin["confirmed"] == ["Your current residence card", "The letter with your PIN and PUK codes"]
    shown = clerk.post(f"/desk/1/tickets/{old.id}/disclose").get_json()
    assert shown == {"name": NAME, "national_number": "85.07.30-033.28"}


@sqlite_only
def test_a_check_in_without_a_visit_shows_none(app, clerk):
    issue(app, "pickup", {"card": None})
    checkin = called_checkin(clerk, 1)
    assert checkin["visit_name"] is None and checkin["confirmed"] == checkin["notes"] == []


@sqlite_only
class TestSiteService:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SITE": str(site_variant(tmp_path, *SITE_SERVICE_AT_COUNTER_1))}

    @pytest.mark.parametrize(
        "accept_language, name, confirmed",
        [
            ("nl", "Attest van woonst", "Je paspoort"),
            ("en", "Certificate of residence", "Your passport"),
            ("de", "Certificate of residence", "Je paspoort"),  # no German list: the office's main language
        ],
    )
    def test_the_desk_names_the_service_and_its_list_in_the_clerks_language(
        self, app, client, staff, accept_language, name, confirmed
    ):
        issue(
            app,
            "residence_certificate",
            {"visit": "residence_certificate", "notes": [], "confirmed": ["site_0"], "missing": []},
            language="en",
        )
        checkin = called_checkin(clerk_in(client, accept_language), 1)
        assert (checkin["visit"], checkin["visit_name"]) == ("residence_certificate", name)
        assert checkin["confirmed"] == [confirmed]

    def test_a_line_only_the_citizens_language_has_comes_in_that_language(self, app, client, staff):
        issue(
            app,
            "residence_certificate",
            {"visit": "residence_certificate", "missing": ["site_1", "site_2"]},
            language="en",
        )
        checkin = called_checkin(clerk_in(client, "nl"), 1)
        assert checkin["missing"] == ["A recent photo", "site_2"]  # site_2: a line the site no longer has


@sqlite_only
def test_show_in_full_is_logged_with_the_clerk_and_the_time(app, clerk, clock):
    ticket = issue(app)
    refused = clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose")
    assert refused.status_code == 409  # still waiting: nobody at a counter asked for it
    clerk.post("/api/counters/1/call-next")
    shown = clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert shown.get_json() == {"name": NAME, "national_number": "85.07.30-033.28"}
    with app.extensions["office"]["engine"].connect() as conn:
        log = conn.execute(select(disclosures)).all()
    assert [(row.ticket_id, row.username, row.at) for row in log] == [(ticket["id"], "clerk", clock())]
    assert clerk.post(f"/desk/1/tickets/{ticket['id'] + 99}/disclose").status_code == 404


def test_a_ticket_id_beyond_any_database_integer_is_not_found_at_the_desk(app, clerk):
    for action in ("disclose", "reprint"):
        response = clerk.post(f"/desk/1/tickets/{10**30}/{action}")
        assert response.status_code == 404 and response.get_json()["error"] == "ticket_not_found"


@sqlite_only
def test_only_the_ticket_at_this_counter_is_shown_in_full_and_only_to_a_person(app, clerk, tokens):
    ticket = issue(app)
    clerk.post("/api/counters/1/call-next")
    elsewhere = clerk.post(f"/desk/2/tickets/{ticket['id']}/disclose")
    assert elsewhere.status_code == 409 and NAME not in elsewhere.get_data(as_text=True)
    machine = app.test_client()  # with a valid form token, so only the role check can refuse
    token = form_csrf(machine.get("/login").get_data(as_text=True))
    refused = machine.post(
        f"/desk/1/tickets/{ticket['id']}/disclose", headers={**bearer(tokens["desk"]), "X-CSRFToken": token}
    )
    assert refused.status_code == 403
    assert clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 200
    clerk.post(f"/api/tickets/{ticket['id']}/park")
    assert clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 409  # no longer at the counter
    with app.extensions["office"]["engine"].connect() as conn:
        assert len(conn.execute(select(disclosures)).all()) == 1  # refusals are not shown, nor logged


@sqlite_only
def test_yesterdays_tickets_are_not_shown_in_full(app, clerk, clock):
    ticket = issue(app)
    clerk.post("/api/counters/1/call-next")
    clock.advance(days=1)
    next_day = SignedIn(app.test_client(), "clerk")
    assert next_day.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 404


@sqlite_only
def test_reprint_prints_the_ticket_again(app, clerk, tmp_path):
    ticket = issue(app)
    printed_before = set((tmp_path / "tickets").glob("*")) if (tmp_path / "tickets").exists() else set()
    response = clerk.post(f"/desk/1/tickets/{ticket['id']}/reprint")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"printed": True, "reason": None}
    new = set((tmp_path / "tickets").glob("*")) - printed_before
    assert new, "the simulated printer wrote nothing"
    printed = b"".join(path.read_bytes() for path in new)
    assert ticket["number"].encode() in printed
    assert not any(personal.encode() in printed for personal in PERSONAL)
