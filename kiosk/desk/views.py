"""Desk routes: the counter choice, the desk page, its state, show in full, reprint."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, jsonify, render_template, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from .. import code_requests, pickups
from ..accounts.views import staff_page
from ..api.routes import DESK_ROLES, by_whom
from ..auth import current_principal, require
from ..checkin import CheckIn, clerk_view
from ..contacts import shown
from ..disclosures import record_disclosure
from ..extensions import office
from ..i18n import LANGUAGE_NAMES
from ..live import POLL_INTERVAL_MS, counter_name, service_label, version_url
from ..printing import print_ticket
from ..queue import CounterState, Ticket
from ..queue.engine import AT_COUNTER, SAME_PRESS
from ..services import checklist_text

bp = Blueprint("desk", __name__, url_prefix="/desk")

STAFF_ROLES = ("clerk", "supervisor")  # people at a desk; `desk` tokens are for machines
WAITING_SHOWN = 12  # numbers listed per service; the count covers all
# The kiosk's notes (kiosk.citizen.eligibility, kiosk.ticketing) as what the clerk
# has to know or do; a note not listed here is shown as its code.
NOTES = {
    "minor_authentication_only": _l("Under 18: only the authentication certificate"),
    "expired": _l("Card expired: its certificates cannot be activated"),
    "pin_blocked": _l("PIN blocked"),
    "pin_not_blocked": _l("PIN not blocked: try it with the citizen first"),
    "pin_tries_unknown": _l("PIN state unknown: check whether it is blocked"),
    "fee_and_delay": _l("Collect the fee; the new codes take about two weeks"),
    "expires_before_codes": _l("The card expires before the new codes arrive"),
    "not_in_register": _l("Not found in the pickup register: look for the new card"),
    "code_request_not_recorded": _l("The code request was not recorded: record it by hand"),
    "signing_never_on_this_card": _l(
        "Issued to a minor without the signing certificate: it can never get one (new card)"
    ),
    "signing_can_be_activated": _l("Now 18: the signing certificate on the card can be activated"),
    "certificates_expired": _l("A certificate on the card has expired"),
    "no_puk_needed": _l("Card issued after the PUK-free date: reset the PIN without the PUK"),
    "codes_not_needed": _l("Chose new codes, sent to a PIN reset: the card needs no PUK"),
    "codes_to_home_municipality": _l(
        "Address in another municipality: the codes go to the municipality of inscription"
    ),
    "doc_stop_reactivation": _l("Card blocked with DOC STOP on %(date)s and found again: reactivate it, no new card"),
    "card_to_be_checked": _l("The card did not pass the kiosk's check: look at the card itself"),
}
# The kiosk's check of the card (hardware.card.card_checks), for the card line.
CARD_CHECKS = {
    ("authenticity", "valid"): _l("data signature valid"),
    ("authenticity", "invalid"): _l("data signature INVALID"),
    ("authenticity", "not_checked"): _l("data signature not checked"),
    ("photo", "matches"): _l("photo matches"),
    ("photo", "differs"): _l("photo does NOT match"),
    ("photo", "not_checked"): _l("photo not checked"),
}
CERTIFICATES = {"authentication": _l("authentication certificate"), "signing": _l("signing certificate")}


TOLD_BY = {
    "email": _l("the citizen is told by e-mail at %(to)s"),
    "phone": _l("the citizen is told by text message at %(to)s"),
}
CODE_REQUEST_STATES = {
    "requested": _l("requested: take the fee"),
    "ordered": _l("ordered"),
    "arrived": _l("codes arrived"),
    "notified": _l("codes arrived, citizen told"),
    "reminded": _l("codes arrived, citizen reminded"),
    "collected": _l("collected"),
    "destroyed": _l("destroyed"),
    "cancelled": _l("cancelled"),
}


def _known_counter(counter: int) -> None:
    if counter not in office.site.counters:
        abort(404, description=_("There is no counter %(counter)d.", counter=counter))


def _today_ticket(ticket_id: int) -> Ticket:
    ticket = office.queue.ticket(ticket_id)
    if ticket.day != office.queue.business_day():
        abort(404, description=_("This ticket is not from today."))
    return ticket


def _seconds(since) -> int:
    return max(0, round((office.clock() - since).total_seconds()))


@bp.get("/")
@staff_page(*STAFF_ROLES)
def index():
    states = office.queue.counters()
    counters = [
        {
            "number": c.number,
            "name": c.name,
            "open": c.number in states and states[c.number].open,
            "services": [service_label(s) for s in (states[c.number].services if c.number in states else c.services)],
        }
        for c in office.site.counters.values()
    ]
    return render_template("desk/index.html", counters=counters, principal=current_principal())


@bp.get("/<int:counter>/")
@staff_page(*STAFF_ROLES)
def counter_page(counter: int):
    _known_counter(counter)
    api = url_for("api.openapi").rsplit("/", 1)[0]
    settings = {
        "counter": counter,
        "pollMs": POLL_INTERVAL_MS,
        "csrfToken": generate_csrf(),
        "stateUrl": url_for("desk.state", counter=counter),
        "versionUrl": version_url(),
        "counterApi": f"{api}/counters/{counter}",
        "ticketApi": f"{api}/tickets",
        "codeRequestApi": f"{api}/code-requests",
        "deskTickets": url_for("desk.counter_page", counter=counter) + "tickets",
        "loginUrl": url_for("accounts.login"),
        "samePressMs": SAME_PRESS // dt.timedelta(milliseconds=1),
        "texts": desk_texts(),
    }
    return render_template(
        "desk/counter.html",
        counter=counter,
        counter_name=counter_name(counter),
        settings=settings,
        principal=current_principal(),
        services=[{"id": s.id, "name": service_label(s.id)} for s in office.site.services.values()],
    )


def desk_texts() -> dict:
    return {
        "status": {"called": _("Called"), "serving": _("Being helped")},
        "nobodyWaiting": _("Nobody is waiting for the services you serve."),
        "called": _("%(number)s is called to your counter."),
        "done": _("Done: %(number)s."),
        "reprinted": _("The ticket is printed again."),
        "notPrinted": _("The ticket could not be printed: %(reason)s"),
        "needOneService": _("Serve at least one service."),
        "failed": _("That did not work: %(reason)s"),
        "offline": _("No connection to the server. Trying again…"),
        "open": _("Open"),
        "closed": _("Closed"),
        "yes": _("yes"),
        "expired": _("expired"),
        "valid": _("valid"),
        "triesLeft": _("%(count)s PIN tries left"),
        "ageYears": _("%(age)s years"),
        "returnTo": _("Return %(number)s to the queue"),
        "cardNumber": _("card number %(number)s"),
        "codeRequest": _("request %(id)s: %(told)s"),
        "unchecked": _("Checked in without a card"),
        "handedOver": _("Card %(number)s is marked as collected in the register."),
        "notInRegister": _("Card %(number)s was not waiting in the register."),
        "ordered": _("The codes are ordered."),
        "waitAlarm": _("Waiting too long: someone has waited %(minutes)s minutes."),
    }


@bp.get("/<int:counter>/state")
@require(*DESK_ROLES)
def state(counter: int):
    """Everything the desk screen shows, identity masked; fetched when the queue changes."""
    _known_counter(counter)
    may_serve = office.site.counters[counter].services
    known = office.queue.counters().get(counter, CounterState(False, tuple(may_serve)))
    waiting: dict[str, list[Ticket]] = {service: [] for service in office.site.services}
    for ticket in office.queue.waiting():
        waiting.setdefault(ticket.service, []).append(ticket)
    current = office.queue.at_counter(counter)
    response = jsonify(
        counter={"number": counter, "open": known.open, "services": list(known.services), "may_serve": list(may_serve)},
        current=None
        if current is None
        else {
            "id": current.id,
            "number": current.number,
            "service": current.service,
            "service_name": service_label(current.service),
            "status": current.status,
            "language": current.language,
            "language_name": LANGUAGE_NAMES.get(current.language, current.language),
            "checkin": clerk_checkin(current),
        },
        waiting=[
            {
                "service": service,
                "name": service_label(service),
                "served": service in known.services,
                "count": len(line),
                "tickets": [
                    {"number": t.number, "priority": bool(t.priority), "waited_s": _seconds(t.arrived_at)}
                    for t in line[:WAITING_SHOWN]
                ],
            }
            for service, line in waiting.items()
        ],
        parked=[
            {
                "id": t.id,
                "number": t.number,
                "service_name": service_label(t.service),
                "waited_s": _seconds(t.arrived_at),
            }
            for t in office.queue.parked()
        ],
        wait_alarm_s=office.site.wait_alarm_minutes * 60,
        # A form token expires after WTF_CSRF_TIME_LIMIT; a desk page stays open all day.
        csrf_token=generate_csrf(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def clerk_checkin(ticket: Ticket) -> dict:
    """The ticket's check-in, masked (kiosk.checkin.clerk_view), in the clerk's language whatever the
    citizen's: the visit's name, the notes and checklist as texts. A site line the clerk's
    language lacks comes from the office's main language, else from the citizen's."""
    view = clerk_view(CheckIn.from_json(ticket.checkin))
    lang = str(get_locale())
    service = office.site.services.get(view["visit"])
    fallbacks = (office.site.default_language, ticket.language)

    def item(code: str) -> str:  # a service the site dropped: its items as stored
        return checklist_text(service, code, lang, fallbacks) if service else code

    request = view["code_request"]
    if request and request.get("id") is not None:  # where it is now, how the citizen is told
        found = code_requests.for_desk(office.engine, request["id"])
        if found is not None:  # None: recorded by hand, or no longer kept
            state, kind, contact = found
            if kind is None or contact is None:
                told = _("no contact left: the office writes")
            else:
                told = TOLD_BY[kind] % {"to": shown(kind, contact)}
            request = {
                **request,
                "state": state,
                "state_name": str(CODE_REQUEST_STATES.get(state, state)),
                "told": str(told),
            }
    return {
        **view,
        "code_request": request,
        "visit_name": service_label(view["visit"]) if view["visit"] else None,
        "notes": [note_text(note, view) for note in view["notes"]],
        "card_checks": card_checks(view["card"]),
        "confirmed": [item(code) for code in view["confirmed"]],
        "missing": [item(code) for code in view["missing"]],
    }


def note_text(note: str, view: dict) -> str:
    if note == "doc_stop_reactivation" and view.get("doc_stop"):
        return str(NOTES[note]) % {"date": format_date(dt.date.fromisoformat(view["doc_stop"]))}
    return str(NOTES.get(note, note))


def card_checks(card: dict | None) -> list[str]:
    """The kiosk's verdict on the card and its certificates, in the clerk's language; empty
    while not known (a ticket taken before the checks were in gets them a moment later)."""
    if not card:
        return []
    lines = [
        str(CARD_CHECKS[key])
        for key in (("authenticity", card.get("authenticity")), ("photo", card.get("photo")))
        if key in CARD_CHECKS
    ]
    certificates = card.get("certificates")
    if certificates is not None:
        carried = {c.get("kind"): c.get("valid_until") for c in certificates}
        for kind, name in CERTIFICATES.items():
            until = carried.get(kind)
            if kind not in carried:
                lines.append(_("no %(certificate)s", certificate=name))
            else:
                shown = format_date(dt.date.fromisoformat(until)) if until else "?"
                lines.append(_("%(certificate)s until %(date)s", certificate=name, date=shown))
    return lines


@bp.post("/<int:counter>/tickets/<int:ticket_id>/disclose")
@require(*STAFF_ROLES)
def disclose(counter: int, ticket_id: int):
    """Name and national number in full, for the ticket at this counter only, to a signed-in
    clerk (a machine token never); every time logged."""
    _known_counter(counter)
    ticket = _today_ticket(ticket_id)
    if ticket.status not in AT_COUNTER or ticket.counter != counter:
        abort(409, description=_("Only the identity of the ticket at your counter can be shown."))
    principal = current_principal()
    if principal is None:  # require() lets none through; the log needs a name
        abort(401)
    record_disclosure(office.engine, ticket.id, principal.name, office.clock())
    response = jsonify(CheckIn.from_json(ticket.checkin).identity.in_full())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:counter>/tickets/<int:ticket_id>/reprint")
@require(*DESK_ROLES)
def reprint(counter: int, ticket_id: int):
    """Print the ticket again (kiosk.printing), e.g. after the kiosk's printer failed."""
    _known_counter(counter)
    outcome = print_ticket(_today_ticket(ticket_id))
    return jsonify(printed=bool(outcome.printed), reason=outcome.reason)


def _at_counter(counter: int, ticket_id: int) -> Ticket:
    _known_counter(counter)
    ticket = _today_ticket(ticket_id)
    if ticket.status not in AT_COUNTER or ticket.counter != counter:
        abort(409, description=_("This ticket is not at your counter."))
    return ticket


@bp.post("/<int:counter>/tickets/<int:ticket_id>/handed-over")
@require(*DESK_ROLES)
def handed_over(counter: int, ticket_id: int):
    """The new card of the ticket at this counter was handed over: the register's entry is
    collected, so the kiosk no longer says it is ready."""
    checkin = CheckIn.from_json(_at_counter(counter, ticket_id).checkin)
    card_number = checkin.pickup.card_number if checkin.pickup else None
    if not card_number:
        abort(409, description=_("This ticket has no card from the pickup register."))
    collected = pickups.mark_collected(office.engine, card_number, by_whom(), office.clock())
    return jsonify(card_number=card_number, collected=collected)
