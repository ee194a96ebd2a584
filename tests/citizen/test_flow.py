"""The kiosk flow's session state: one value under one key."""

import pytest

from kiosk.citizen.flow import KEY, Flow
from kiosk.ticketing import Issued


@pytest.fixture(autouse=True)
def _in_the_app(app):
    with app.app_context():  # the typed number is sealed with the app's key and clock
        yield


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_saved_under_one_key_and_loaded_back(clock):
    session = {"lang": "fr"}
    flow = Flow(visit="pickup", lost=True, typed_number="85073003328", reader_after=4, flow_id="abc")
    flow.save(session)
    assert set(session) == {"lang", KEY}
    assert "85073003328" not in repr(session)  # the cookie is signed, not secret
    assert Flow.load(session) == flow
    clock.advance(hours=2)
    assert Flow.load(session) == Flow()  # a typed number from a visit long gone is forgotten
    ticket = Flow(ticket=Issued(7, "A001", print_failed=True))
    ticket.save(session)
    assert Flow.load(session) == ticket
    assert Flow.load({KEY: {"typed_number": "85073003328"}}) == Flow()  # not sealed here


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forget_drops_the_flow_and_keys_of_older_versions_but_not_the_language():
    session = {"lang": "ar", "visit": "pickup", "typed_number": "85073003328", "ticket": 3}
    Flow(visit="pickup").save(session)
    Flow.forget(session)
    assert session == {"lang": "ar"}
    assert Flow.load(session) == Flow()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_flow_this_version_cannot_read_is_a_new_one():
    for stored in (
        {"visit": ["pickup"]},
        {"reader_after": True},
        {"lost": "yes"},
        {"card_version": "3"},
        {"ticket": {"ticket_id": 1}},
        {"ticket": [1, "A001", False]},
        {"unknown": 1},
        "pickup",
    ):
        assert Flow.load({KEY: stored}) == Flow(), stored
