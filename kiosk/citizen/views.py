from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import traceback

from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from hardware.card import ReaderError, ReaderState

from .. import code_requests, pickups
from ..auth import from_this_pc, require
from ..errors import is_database_down, respond, wants_json
from ..extensions import csrf, office
from ..i18n import LANGUAGE_NAMES, RIGHT_TO_LEFT
from ..printing import preview_html, print_ticket
from ..queue import QueueError
from ..services import checklist_text, fee_text, service_name, site_items
from . import bp
from .eligibility import CHECKED_VISITS, assess
from .forms import ConfirmForm, NationalNumberForm
from .once import Issued, OncePerFlow, Refused

log = logging.getLogger(__name__)

FLOW_KEYS = ("visit", "lost", "typed_number", "reader_after", "card_version", "card_key", "flow_id",
             "ticket", "ticket_number", "print_failed")
READER_DOWN = {"no_reader", "reader_gone", "pcsc_down"}
CARD_WAIT_S = 5  # short: a page left behind keeps its waiting request this long
DOC_STOP_PHONE = "00800 2123 2123"  # free from Belgium and most of Europe
DOC_STOP_PHONE_ABROAD = "+32 2 518 2123"
TICKET_IDLE_S = 30
SCREEN_ONLY_TICKET_IDLE_S = 180  # the printer failed: the screen is the citizen's only copy
ISSUE_WAIT_S = 30  # a second post of a screen waits this long for the first one's ticket
NOT_SCREENS = {"citizen.card_state", "citizen.health", "citizen.dev_cards", "citizen.dev_insert",
               "citizen.dev_remove"}

issued_flows = OncePerFlow()


def card_is_in(snapshot) -> bool:
    """A card sits in the reader, read or not: someone has to take it."""
    return snapshot.state in (ReaderState.READING, ReaderState.READY) or snapshot.error in (
        ReaderError.UNREADABLE, ReaderError.NOT_RESIDENCE_CARD)


def reader_after() -> int:
    """The reader's version when this visit was chosen: only a card read after it belongs
    to this citizen (the one before may have left theirs in the reader)."""
    version = office.reader.snapshot().version
    after = session.setdefault("reader_after", version)
    if version < after:  # the reader service restarted, counting anew
        after = session["reader_after"] = version
    return after


def reader_message(snapshot, after: int) -> str:
    """Which message of the identify screen fits the reader now (keys as in kiosk.js)."""
    if card_is_in(snapshot) and snapshot.version <= after:
        return "left_card"
    return str(snapshot.error) if snapshot.state == ReaderState.ERROR else str(snapshot.state)


def card_key(card) -> str:
    """A keyed hash of the card number: the session cookie is signed, not secret."""
    key = current_app.secret_key
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, card.card_number.encode(), hashlib.sha256).hexdigest()[:32]


def out_of_service_reasons() -> list[str]:
    """What keeps this kiosk from serving citizens; codes only, no personal data."""
    reasons = []
    try:
        office.queue.version()
    except DBAPIError as exc:
        if not is_database_down(exc):
            raise
        reasons.append("database")
    snapshot = office.reader.snapshot()
    if snapshot.state == ReaderState.NO_READER or (snapshot.error and str(snapshot.error) in READER_DOWN):
        reasons.append("reader")
    if not office.site.kiosk["screen_only_tickets"] and not office.printer.check_status().ready:
        reasons.append("printer")
    return reasons


def out_of_service(reasons: list[str]):
    """One page in every language of the office: whoever stands here can read it."""
    messages = []
    for lang in office.site.languages:
        with force_locale(lang):
            messages.append({
                "lang": lang, "dir": "rtl" if lang in RIGHT_TO_LEFT else "ltr",
                "title": _("This kiosk is out of service"),
                "text": _("Please go to the counter: a clerk will help you. "
                          "The kiosk comes back by itself as soon as it works again."),
            })
    return render_template("citizen/out_of_service.html", reasons=reasons, messages=messages), 503


def forget_flow() -> None:
    for key in FLOW_KEYS:
        session.pop(key, None)


def go_home():
    """Card pulled or swapped, or the flow expired: never keep someone's data on screen."""
    forget_flow()
    return redirect(url_for("citizen.home"))


# --- errors: every one stays in the kiosk, and the way out forgets the flow -----------------

def error_screen(status: int):
    return render_template("citizen/error.html", not_found=status == 404), status


def log_failure(exc: Exception) -> None:
    # the type and the code lines only: an exception's text may hold a name or a number
    where = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    log.error("kiosk screen %s failed: %s\n%s", request.endpoint, type(exc).__name__, where)


@bp.errorhandler(CSRFError)
def expired_form(_error):
    """An old page's form (e.g. after a restart): start again, never an error page."""
    return go_home()


@bp.errorhandler(DBAPIError)
def database_gone(exc):
    if not is_database_down(exc):
        return unexpected(exc)
    log.error("kiosk out of service: database unavailable")
    return out_of_service(["database"])


@bp.errorhandler(HTTPException)
def http_error(exc):
    if exc.code is None or exc.code < 400:
        return exc
    if request.endpoint in NOT_SCREENS or wants_json():
        return respond(exc.code, (exc.name or "error").lower().replace(" ", "_"), exc.description or exc.name)
    return error_screen(exc.code)


@bp.errorhandler(Exception)
def unexpected(exc):
    log_failure(exc)
    if request.endpoint in NOT_SCREENS or wants_json():
        return respond(500, "internal_server_error", "Something went wrong.")
    return error_screen(500)


@bp.route("/<path:unknown>")
def not_found(unknown):
    """An unknown kiosk address gets the kiosk's own page, not the staff one."""
    abort(404)


def language_url(code: str) -> str:
    """This screen in another language (a posted form's screen: the visit choice)."""
    if request.method != "GET" or request.endpoint == "citizen.not_found":
        return url_for("citizen.visit", lang=code)
    return url_for(request.endpoint, **(request.view_args or {}), lang=code)


@bp.context_processor
def screen_context():
    return {"idle_seconds": office.site.kiosk["idle_seconds"], "languages": office.site.languages,
            "language_names": LANGUAGE_NAMES, "rtl": RIGHT_TO_LEFT, "language_url": language_url}


# --- screens -----------------------------------------------------------------------------

@bp.get("/")
def home():
    forget_flow()
    session.pop("lang", None)  # the next citizen starts in the office's language
    reasons = out_of_service_reasons()
    if reasons:
        log.warning("kiosk out of service: %s", ", ".join(reasons))
        return out_of_service(reasons)
    return render_template("citizen/home.html", card_is_in=card_is_in(office.reader.snapshot()))


@bp.before_request
def remember_language():
    """Language links point at the screen itself with ?lang=xx: no detour, no redirect."""
    language = request.args.get("lang")
    if language in office.site.languages:
        session["lang"] = language


def language() -> str:
    return session.get("lang", office.site.default_language)


@bp.get("/visit")
def visit():
    lang = language()
    visits = [
        {"id": s.id, "name": service_name(s, lang), "fee": fee_text(s, lang), "paid": bool(s.fee_cents),
         "checked": s.id in CHECKED_VISITS}
        for s in office.site.services.values() if s.enabled
    ]
    return render_template("citizen/visit.html", visits=visits)


@bp.get("/lost")
def lost_card():
    return render_template("citizen/lost.html", phone=DOC_STOP_PHONE, phone_abroad=DOC_STOP_PHONE_ABROAD)


def begin_visit() -> bool:
    """A visit chosen by ?visit=ID starts a fresh flow; True when one is under way."""
    visit_id = request.args.get("visit")
    if visit_id is not None:
        service = office.site.services.get(visit_id)
        forget_flow()
        if service is None or not service.enabled:
            return False
        session["visit"] = visit_id
        session["lost"] = request.endpoint == "citizen.type_number"
        session["reader_after"] = office.reader.snapshot().version
    return "visit" in session


def current_service():
    """The service of the flow under way, or None (none chosen, or gone from the site)."""
    service = office.site.services.get(session.get("visit") or "")
    return service if service is not None and service.enabled else None


@bp.get("/identify")
def identify():
    if not begin_visit():
        return redirect(url_for("citizen.visit"))
    if session["visit"] not in CHECKED_VISITS:
        return redirect(url_for("citizen.confirm"))
    after = reader_after()
    snapshot = office.reader.snapshot()
    if snapshot.state == ReaderState.READY and snapshot.version > after:
        return redirect(url_for("citizen.check"))
    return render_template("citizen/identify.html", visit=session["visit"], after=after,
                           message=reader_message(snapshot, after))


@bp.route("/identify/number", methods=["GET", "POST"])
def type_number():
    if not begin_visit() or session.get("visit") != "pickup":
        return redirect(url_for("citizen.visit"))
    form = NationalNumberForm()
    if form.validate_on_submit():
        session["lost"] = True
        session["typed_number"] = form.national_number.data
        return redirect(url_for("citizen.check"))
    return render_template("citizen/keypad.html", form=form)


def visit_card():
    """The card of this visit: read since the visit was chosen and, when a screen is posted,
    the very card that screen was shown for (not one swapped in since). None otherwise."""
    snapshot = office.reader.snapshot()
    if snapshot.state != ReaderState.READY or snapshot.version <= reader_after():
        return None
    if request.method == "POST":
        # the version alone would do, except across a restart of the reader service
        if snapshot.version != session.get("card_version") or card_key(snapshot.card) != session.get("card_key"):
            return None
    else:
        session["card_version"], session["card_key"] = snapshot.version, card_key(snapshot.card)
    return snapshot.card


def current_assessment(visit_id: str):
    """The person's card (or typed number) and what the rules say of the visit; None
    when the card is not (or no longer) this visit's."""
    lost = bool(session.get("lost"))
    card = None if lost else visit_card()
    if card is None and not (lost and session.get("typed_number")):
        return None
    national_number = session.get("typed_number") if lost else card.national_number
    pickup = pickups.ready_for(office.engine, national_number) if visit_id == "pickup" else None
    assessment = assess(visit_id, card=card, lost_card=lost, today=office.queue.today(), pickup=pickup,
                        ticket_without_pickup=office.site.kiosk["ticket_without_pickup"])
    return assessment, card, national_number


def screen_form(checklist) -> ConfirmForm:
    """The ticket form of a screen, carrying the flow id its one ticket is issued for."""
    form = ConfirmForm()
    form.confirmed.choices = list(checklist)
    form.flow_id.data = session.setdefault("flow_id", secrets.token_urlsafe(12))
    return form


@bp.route("/check", methods=["GET", "POST"])
def check():
    if request.method == "POST" and (outcome := issued_before()):
        return answer(outcome)  # a double tap: the first post's ticket
    service = current_service()
    if service is None:
        return go_home()
    if service.id not in CHECKED_VISITS:
        return redirect(url_for("citizen.confirm"))
    found = current_assessment(service.id)
    if found is None:
        return go_home()
    assessment, card, national_number = found
    lang = language()
    checklist = checklist_items(assessment, service, lang)
    form = screen_form(checklist_choices(service, checklist, lang))
    if assessment.may_take_ticket and form.validate_on_submit():
        chosen = set(form.confirmed.data or ())
        checkin = {
            "visit": assessment.visit,
            "card": {"type": card.card_type, "expired": card.is_expired_on(office.queue.today())} if card else None,
            "lost_card": bool(session.get("lost")),
            "name": f"{card.last_name}, {card.given_names}" if card else None,
            "national_number": national_number,
            "age": assessment.age,
            "pin_tries_left": assessment.pin_tries_left,
            "notes": list(assessment.notes),
            "confirmed": [code for code in checklist if code in chosen],
            "missing": [code for code in checklist if code not in chosen],
            "pickup": {"storage": assessment.pickup.storage, "card_number": assessment.pickup.card_number}
            if assessment.pickup else None,
        }
        return issue_ticket(assessment.visit, checkin, national_number, form.contact.data or "")
    return render_template(
        "citizen/check.html", assessment=assessment, form=form, service=service,
        service_title=service_name(service, lang), fee=fee_text(service, lang), card=card,
        lost=bool(session.get("lost")), card_version=session.get("card_version"),
    )


def checklist_items(assessment, service, lang) -> list[str]:
    """What to have at the counter, to tick, as codes: the desk shows them in the clerk's
    language. The rules' items come first and always: they fit this person (police
    certificate when the card is lost; the site's own fee). A site's `bring` texts are
    written for the usual case, so they are added after them, never instead: a site list
    can no longer hide the certificate or the fee."""
    return [*assessment.checklist, *site_items(service, lang)]


def checklist_choices(service, checklist, lang) -> list[tuple[str, str]]:
    """The items to tick: each code with its text in the citizen's language."""
    return [(code, checklist_text(service, code, lang)) for code in checklist]


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    """A site's own service: the rules do not know it, so no card is needed and the
    screen shows the site's name and list."""
    if request.method == "POST" and (outcome := issued_before()):
        return answer(outcome)
    if request.method == "GET":  # the form posts to this same address, ?visit= and all
        begin_visit()
    service = current_service()
    if service is None:
        return go_home()
    if service.id in CHECKED_VISITS:
        return redirect(url_for("citizen.identify"))
    lang = language()
    checklist = site_items(service, lang)
    form = screen_form(checklist_choices(service, checklist, lang))
    if form.validate_on_submit():
        chosen = set(form.confirmed.data or ())
        checkin = {
            "visit": service.id, "card": None, "lost_card": False, "name": None, "national_number": None,
            "notes": [], "pickup": None,
            "confirmed": [code for code in checklist if code in chosen],
            "missing": [code for code in checklist if code not in chosen],
        }
        return issue_ticket(service.id, checkin, None, "")
    return render_template("citizen/confirm.html", form=form, service_title=service_name(service, lang),
                           fee=fee_text(service, lang), paid=bool(service.fee_cents))


def issued_before() -> Issued | Refused | None:
    """What an earlier post of this screen got, checked before the card: the citizen may
    pull it right after tapping, and the second post of a double tap must still show the
    first one's ticket."""
    claim = issued_flows.get(request.form.get("flow_id"))
    return claim.wait(ISSUE_WAIT_S) if claim else None


def issue_ticket(visit_id: str, checkin: dict, national_number: str | None, contact: str):
    """Issue this screen's one ticket; a second post of the same screen gets the same one."""
    flow_id = request.form.get("flow_id")
    if not flow_id or flow_id != session.get("flow_id"):
        return go_home()
    claim, first = issued_flows.claim(flow_id)
    if not first:
        return answer(claim.wait(ISSUE_WAIT_S))
    outcome = None
    try:
        outcome = issue_and_print(visit_id, checkin, national_number, contact)
    finally:
        issued_flows.settle(flow_id, claim, outcome)
    return answer(outcome)


def issue_and_print(visit_id, checkin, national_number, contact) -> Issued | Refused:
    try:
        ticket, place = office.queue.issue(visit_id, language=language(), checkin=checkin)
    except QueueError as exc:
        log.warning("no ticket: %s", exc.code)
        return Refused(exc.code)
    # From here on the ticket exists: nothing may keep it from the screen.
    show_ticket(Issued(ticket.id, ticket.number, print_failed=True))
    if visit_id == "new_codes":
        record_code_request(ticket, checkin, national_number, contact)
    return Issued(ticket.id, ticket.number, print_failed=not printed(ticket, place))


def record_code_request(ticket, checkin, national_number, contact) -> None:
    try:
        code_request = code_requests.record(office.engine, ticket.id, national_number, contact, office.clock())
        checkin["code_request"] = {"id": code_request.id, "contact": code_request.contact_kind}
    except Exception as exc:  # noqa: BLE001 - the ticket is issued; the clerk takes the request
        log.error("ticket %s: code request not recorded (%s)", ticket.number, type(exc).__name__)
        checkin["notes"] = [*checkin["notes"], "code_request_not_recorded"]
    try:
        office.queue.update_checkin(ticket.id, checkin)
    except Exception as exc:  # noqa: BLE001 - the clerk sees the visit without the request
        log.error("ticket %s: check-in not updated (%s)", ticket.number, type(exc).__name__)


def printed(ticket, place) -> bool:
    try:
        outcome = print_ticket(ticket, place)
    except Exception as exc:  # noqa: BLE001 - the screen shows the ticket, the desk reprints it
        log.error("ticket %s not printed (%s)", ticket.number, type(exc).__name__)
        return False
    if not outcome.printed:
        log.warning("ticket %s shown on screen only: printer %s", ticket.number, outcome.reason)
    return outcome.printed


def show_ticket(issued: Issued) -> None:
    forget_flow()
    session.update(ticket=issued.ticket_id, ticket_number=issued.number, print_failed=issued.print_failed)


def answer(outcome: Issued | Refused | None):
    if isinstance(outcome, Refused):
        forget_flow()
        return render_template("citizen/refused.html", code=outcome.code), 409
    if outcome is None:  # the first post failed before there was a ticket
        return go_home()
    show_ticket(outcome)
    return redirect(url_for("citizen.ticket"))


@bp.get("/ticket")
def ticket():
    ticket_id = session.get("ticket")
    if ticket_id is None:
        return redirect(url_for("citizen.home"))
    print_failed = session.get("print_failed", False)
    try:
        ticket = office.queue.ticket(ticket_id)
        place = office.queue.place(ticket)
        details = {"number": ticket.number, "place": place, "preview": preview_html(ticket, place)}
    except Exception as exc:  # noqa: BLE001 - the number alone still tells the citizen their turn
        log.error("ticket %s shown without details (%s)", session.get("ticket_number"), type(exc).__name__)
        details = {"number": session.get("ticket_number"), "place": None, "preview": None}
    screen_only = print_failed or details["preview"] is None
    return render_template(
        "citizen/ticket.html", **details, print_failed=print_failed,
        idle=SCREEN_ONLY_TICKET_IDLE_S if screen_only else TICKET_IDLE_S,
        card_is_in=card_is_in(office.reader.snapshot()),
    )


@bp.get("/reset")
def reset():
    """Idle, card pulled, or done: forget everything and start again."""
    forget_flow()
    session.pop("lang", None)
    return redirect(url_for("citizen.home"))


# --- JSON for the screens ----------------------------------------------------------------

@bp.get("/card")
@require("kiosk", loopback=True)
def card_state():
    """The reader's state, only for the kiosk itself.

    With `?after=VERSION` the answer waits (up to CARD_WAIT_S) for a change, so the screen
    moves on as soon as a card is read. Only this kiosk's own screen asks, so this holds
    at most one or two server threads.
    """
    after = request.args.get("after", type=int)
    if after is None:
        snapshot = office.reader.snapshot()
    else:
        snapshot = office.reader.wait_for_change(after, CARD_WAIT_S)
    # what the screens need to move on, and not a word of the card itself
    return jsonify(state=str(snapshot.state), error=None if snapshot.error is None else str(snapshot.error),
                   version=snapshot.version, card_is_in=card_is_in(snapshot))


@bp.get("/health")
def health():
    """This kiosk's state for its own screen and for facility staff: no personal data."""
    reasons = out_of_service_reasons()
    printer = office.printer.latest_status
    offset = office.clock.offset_s  # this PC's clock minus the office's (the database's)
    return jsonify(in_service=not reasons, reasons=reasons, reader=str(office.reader.snapshot().state),
                   printer=printer.as_dict() if printer else None,
                   clock_offset_s=None if offset is None else round(offset, 3))


# --- the simulated reader, for demos and development --------------------------------------

def simulated_reader():
    if office.site.reader["kind"] != "simulated" or not from_this_pc():
        abort(404)
    return office.reader


@bp.get("/dev/cards")
def dev_cards():
    reader = simulated_reader()
    return render_template("citizen/dev_cards.html", cards=reader.cards(), inserted=reader.inserted_card)


@bp.post("/dev/cards/insert")
@csrf.exempt  # loopback and simulated reader only; the CLI posts here
def dev_insert():
    reader = simulated_reader()
    card_id = request.form.get("card") or (request.get_json(silent=True) or {}).get("card")
    try:
        reader.insert(card_id or "")
    except ValueError:
        abort(400, description=f"There is no simulated card {card_id!r}.")
    return redirect(url_for("citizen.dev_cards")) if request.form else jsonify(inserted=card_id)


@bp.post("/dev/cards/remove")
@csrf.exempt
def dev_remove():
    simulated_reader().remove()
    return redirect(url_for("citizen.dev_cards")) if request.form else jsonify(inserted=None)
