from __future__ import annotations

import logging

from flask import abort, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError

from hardware.card import ReaderState

from .. import code_requests, pickups
from ..auth import is_loopback, require
from ..errors import is_database_down
from ..extensions import csrf, office
from ..housekeeping import close_day_once
from ..i18n import LANGUAGE_NAMES, RIGHT_TO_LEFT
from ..printing import preview_html, print_ticket
from ..queue import QueueError
from ..services import fee_text, service_bring, service_name
from . import bp
from .eligibility import assess
from .forms import ConfirmForm, NationalNumberForm

log = logging.getLogger(__name__)

FLOW_KEYS = ("visit", "lost", "typed_number", "ticket", "print_failed")
READER_DOWN = {"no_reader", "reader_gone", "pcsc_down"}
CARD_WAIT_S = 5  # short: a page left behind keeps its waiting request this long
DOC_STOP_PHONE = "00800 2123 2123"  # free from Belgium and most of Europe
DOC_STOP_PHONE_ABROAD = "+32 2 518 2123"


def card_in_reader():
    """The residence card in the reader now, or None."""
    snapshot = office.reader.snapshot()
    return snapshot.card if snapshot.state == ReaderState.READY else None


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


@bp.errorhandler(CSRFError)
def expired_form(_error):
    """An old page's form (e.g. after a restart): start again, never an error page."""
    forget_flow()
    return redirect(url_for("citizen.home"))


@bp.errorhandler(DBAPIError)
def database_gone(exc):
    if not is_database_down(exc):
        raise exc
    log.error("kiosk out of service: database unavailable")
    return out_of_service(["database"])


def language_url(code: str) -> str:
    """This screen in another language (a posted form's screen: the visit choice)."""
    if request.method != "GET":
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
    return render_template("citizen/home.html")


@bp.before_request
def remember_language():
    """Language links point at the screen itself with ?lang=xx: no detour, no redirect."""
    language = request.args.get("lang")
    if language in office.site.languages:
        session["lang"] = language


@bp.get("/visit")
def visit():
    lang = session.get("lang", office.site.default_language)
    visits = [
        {"id": s.id, "name": service_name(s, lang), "fee": fee_text(s, lang), "paid": bool(s.fee_cents)}
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
    return "visit" in session


@bp.get("/identify")
def identify():
    if not begin_visit():
        return redirect(url_for("citizen.visit"))
    if card_in_reader() is not None:
        return redirect(url_for("citizen.check"))
    return render_template("citizen/identify.html", visit=session["visit"])


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


def current_assessment():
    """The visit, the person's card (or typed number) and what the rules say."""
    visit_id = session.get("visit")
    lost = bool(session.get("lost"))
    card = None if lost else card_in_reader()
    if visit_id is None or (card is None and not (lost and session.get("typed_number"))):
        return None
    national_number = session.get("typed_number") if lost else card.national_number
    pickup = pickups.ready_for(office.engine, national_number) if visit_id == "pickup" else None
    assessment = assess(visit_id, card=card, lost_card=lost, today=office.queue.today(), pickup=pickup,
                        ticket_without_pickup=office.site.kiosk["ticket_without_pickup"])
    return assessment, card, national_number


@bp.route("/check", methods=["GET", "POST"])
def check():
    found = current_assessment()
    if found is None:  # card pulled or flow expired: never keep someone's data on screen
        forget_flow()
        return redirect(url_for("citizen.home"))
    assessment, card, national_number = found
    lang = session.get("lang", office.site.default_language)
    service = office.site.services[assessment.visit]
    form = ConfirmForm()
    checklist = checklist_texts(assessment, service, lang)
    form.confirmed.choices = [(code, text) for code, text in checklist]
    if assessment.may_take_ticket and form.validate_on_submit():
        return issue_ticket(assessment, card, national_number, form, checklist)
    return render_template(
        "citizen/check.html", assessment=assessment, form=form, service=service,
        service_title=service_name(service, lang), fee=fee_text(service, lang), card=card,
        needs_card=not session.get("lost"),
    )


def checklist_texts(assessment, service, lang) -> list[tuple[str, str]]:
    texts = {
        "current_card": _("Your current residence card"),
        "police_certificate": _("The police certificate of loss or theft"),
        "code_letter": _("The letter with your PIN and PUK codes"),
        "card": _("Your residence card"),
        "pin_or_puk": _("Your PIN code, or your PUK code"),
        "puk": _("Your PUK code"),
        "fee": _("The fee: %(fee)s (Bancontact preferred)", fee=fee_text(service, lang)),
    }
    if service.bring.get(lang):  # the site's own list replaces the built-in one
        return [(f"site_{i}", text) for i, text in enumerate(service_bring(service, lang))]
    return [(code, texts[code]) for code in assessment.checklist]


def issue_ticket(assessment, card, national_number, form, checklist):
    lang = session.get("lang", office.site.default_language)
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
        "confirmed": [text for code, text in checklist if code in chosen],
        "missing": [text for code, text in checklist if code not in chosen],
        "pickup": {"storage": assessment.pickup.storage, "card_number": assessment.pickup.card_number}
        if assessment.pickup else None,
    }
    close_day_once(office)
    try:
        ticket, place = office.queue.issue(assessment.visit, language=lang, checkin=checkin)
    except QueueError as exc:
        log.warning("no ticket: %s", exc.code)
        return render_template("citizen/refused.html", code=exc.code), 409
    if assessment.visit == "new_codes":
        code_request = code_requests.record(office.engine, ticket.id, national_number, form.contact.data or "")
        checkin["code_request"] = {"id": code_request.id, "contact": code_request.contact_kind}
        office.queue.update_checkin(ticket.id, checkin)
    outcome = print_ticket(ticket, place)
    if not outcome.printed:
        log.warning("ticket %s shown on screen only: printer %s", ticket.number, outcome.reason)
    forget_flow()
    session["ticket"] = ticket.id
    session["print_failed"] = not outcome.printed
    return redirect(url_for("citizen.ticket"))


@bp.get("/ticket")
def ticket():
    ticket_id = session.get("ticket")
    if ticket_id is None:
        return redirect(url_for("citizen.home"))
    ticket = office.queue.ticket(ticket_id)
    place = office.queue.place(ticket)
    return render_template(
        "citizen/ticket.html", ticket=ticket, place=place, preview=preview_html(ticket, place),
        print_failed=session.get("print_failed", False), status_url=office.status_url(ticket),
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
    """The reader's state and card: personal data, so only for the kiosk itself.

    With `?after=VERSION` the answer waits (up to CARD_WAIT_S) for a change, so the screen
    moves on as soon as a card is read. Only this kiosk's own screen asks, so this holds
    at most one or two server threads.
    """
    after = request.args.get("after", type=int)
    if after is None:
        snapshot = office.reader.snapshot()
    else:
        snapshot = office.reader.wait_for_change(after, CARD_WAIT_S)
    data = snapshot.to_dict(office.queue.today())
    return jsonify(state=data["state"], card=data["card"], error=data["error"], version=data["version"])


@bp.get("/health")
def health():
    """This kiosk's state for its own screen and for facility staff: no personal data."""
    reasons = out_of_service_reasons()
    printer = office.printer.latest_status
    return jsonify(in_service=not reasons, reasons=reasons, reader=str(office.reader.snapshot().state),
                   printer=printer.as_dict() if printer else None)


# --- the simulated reader, for demos and development --------------------------------------

def simulated_reader():
    if office.site.reader["kind"] != "simulated" or not is_loopback(request.remote_addr):
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
