from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import traceback
from typing import NamedTuple

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from hardware.card import ReaderError, ReaderState, ResidenceCard
from hardware.card.card_checks import CardChecks

from .. import pickups, service_state, turn_soon
from ..auth import from_this_pc, require
from ..card_kinds import card_meaning
from ..checkin import CheckIn
from ..errors import describe, is_database_down, respond, wants_json
from ..extensions import csrf, office
from ..i18n import LANGUAGE_NAMES, RIGHT_TO_LEFT
from ..printing import preview_html
from ..services import checklist_text, fee_text, service_meaning, service_name, site_items
from ..ticketing import Issued, Outcome, Refused, Ticketing
from . import speech, verdict
from .eligibility import (
    CHECKED_VISITS,
    Assessment,
    assess,
    check_in,
    checked_card,
    reactivation_in_time,
    site_service,
)
from .flow import Flow
from .forms import ConfirmForm, NationalNumberForm

bp = Blueprint("citizen", __name__, url_prefix="/kiosk")

log = logging.getLogger(__name__)

CARD_WAIT_S = 5  # short: a page left behind keeps its waiting request this long
DOC_STOP_PHONE = "00800 2123 2123"  # free from Belgium and most of Europe
DOC_STOP_PHONE_ABROAD = "+32 2 518 2123"
TICKET_IDLE_S = 30
SCREEN_ONLY_TICKET_IDLE_S = 180  # the printer failed: the screen is the citizen's only copy
NOT_SCREENS = {
    "citizen.card_state",
    "citizen.check_findings",
    "citizen.health",
    "citizen.dev_cards",
    "citizen.dev_insert",
    "citizen.dev_remove",
    "citizen.speech",
    "citizen.speech_alert",
}

ticketing = Ticketing()


def card_is_in(snapshot) -> bool:
    """A card sits in the reader, read or not: someone has to take it."""
    return snapshot.state in (ReaderState.READING, ReaderState.READY) or snapshot.error in (
        ReaderError.UNREADABLE,
        ReaderError.NOT_RESIDENCE_CARD,
    )


CARD_AFTER = "card_after"  # in the session, beside the language: it outlives a flow


def card_since(snapshot) -> int:
    """The reader's version since which the card in it is as it is now: its read (its checks
    follow as new versions of the same read), or the version of its state."""
    return snapshot.read if snapshot.read is not None else snapshot.version


def citizen_began(*, now: bool = False) -> int:
    """The reader's version when this citizen's screens began: the start screen, shown after
    every ticket and every reset (`now`), or else the first screen they were shown. A card
    put in after it is theirs, even before they chose a visit (card first); one in the
    reader from before was left there by someone else."""
    version = office.reader.snapshot().version
    began = session.get(CARD_AFTER)
    # none yet, or higher: the reader service restarted, counting anew
    if now or not isinstance(began, int) or began > version:
        session[CARD_AFTER] = began = version
    return began


def own_card(snapshot, after: int) -> bool:
    return snapshot.state == ReaderState.READY and card_since(snapshot) > after


def left_card(snapshot, after: int) -> bool:
    return card_is_in(snapshot) and card_since(snapshot) <= after


def reader_after(flow: Flow) -> int:
    """The reader's version when this citizen began (see citizen_began): only a card read
    after it belongs to this visit (the one before may have left theirs in the reader)."""
    version = office.reader.snapshot().version
    # none yet: from now on; lower: the reader service restarted, counting anew
    if flow.reader_after is None or version < flow.reader_after:
        flow.reader_after = version
        flow.save(session)
    return flow.reader_after


def reader_message(snapshot, after: int) -> str:
    """Which message of the identify screen fits the reader now (keys as in kiosk.js)."""
    if left_card(snapshot, after):
        return "left_card"
    return str(snapshot.error) if snapshot.state == ReaderState.ERROR else str(snapshot.state)


def card_notices(languages, *, start: bool = False) -> dict[str, dict[str, str]]:
    """What the start and visit screens say of a card in the reader, in each of `languages`:
    the start screen speaks to a citizen whose language is not known yet."""
    notices = {}
    for lang in languages:
        with force_locale(lang):
            notices[lang] = {
                "own": _("Your card is in the reader. Choose your language.")
                if start
                else _("Your card is in the reader. Choose what brings you here."),
                "left": _(
                    "Someone left a card in the reader. If it is yours, take it out and put it in again; "
                    "if not, please hand it in at the counter."
                ),
            }
    return notices


def card_state_of(snapshot, after: int) -> str | None:
    """ "own", "left" or None: the card notice a screen shows (kiosk.js keeps it up to date)."""
    return "own" if own_card(snapshot, after) else "left" if left_card(snapshot, after) else None


def card_key(card) -> str:
    """A keyed hash of the card number: the session cookie is signed, not secret."""
    key = current_app.secret_key
    if not key:
        raise RuntimeError("the app has no SECRET_KEY")
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, card.card_number.encode(), hashlib.sha256).hexdigest()[:32]


def out_of_service(reasons: list[str]):
    """One page in every language of the office: whoever stands here can read it."""
    messages = []
    for lang in office.site.languages:
        with force_locale(lang):
            messages.append(
                {
                    "lang": lang,
                    "dir": "rtl" if lang in RIGHT_TO_LEFT else "ltr",
                    "title": _("This kiosk is out of service"),
                    "text": _(
                        "Please go to the counter: a clerk will help you. "
                        "The kiosk comes back by itself as soon as it works again."
                    ),
                }
            )
    staff_message = office.member.held or None  # facility staff's own words, as they wrote them
    return (
        render_template("citizen/out_of_service.html", reasons=reasons, messages=messages, staff_message=staff_message),
        503,
    )


def forget_flow() -> None:
    Flow.forget(session)


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
    log.error("kiosk screen %s failed: %s\n%s", request.endpoint, describe(exc), where)


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
    if request.method != "GET" or request.endpoint in (None, "citizen.not_found"):
        return url_for("citizen.visit", lang=code)
    return url_for(request.endpoint, **(request.view_args or {}), lang=code)


# Audio guidance (kiosk.citizen.speech): the screen's texts spoken, and the idle warning's sound.
bp.add_url_rule("/speech/<language>.wav", "speech", speech.speak)
bp.add_url_rule("/alert.wav", "speech_alert", speech.alert)
bp.context_processor(speech.template_helpers)


def information_service():
    """The site's information service, whose ticket is offered where the kiosk gives no other."""
    service = office.site.services.get(office.site.kiosk.information_service or "")
    return service if service is not None and service.enabled else None


@bp.context_processor
def screen_context():
    lang = language()
    appointments = office.site.appointments
    information = information_service()
    return {
        "appointment": {
            "phone": appointments.phone,
            "url": appointments.url,
            "hours": appointments.hours_in(lang, office.site.default_language),
        },
        "information": None if information is None else {"id": information.id, "name": service_name(information, lang)},
        "idle_seconds": office.site.kiosk.idle_seconds,
        "languages": office.site.languages,
        "language_names": LANGUAGE_NAMES,
        "rtl": RIGHT_TO_LEFT,
        "language_url": language_url,
        "card_meaning": card_meaning,
    }


# --- screens -----------------------------------------------------------------------------


@bp.get("/")
def home():
    forget_flow()
    session.pop("lang", None)  # the next citizen starts in the office's language
    reasons = service_state.reasons()
    if reasons:
        log.warning("kiosk out of service: %s", ", ".join(reasons))
        return out_of_service(reasons)
    after, snapshot = citizen_began(now=True), office.reader.snapshot()
    return render_template(
        "citizen/home.html",
        after=after,
        card=card_state_of(snapshot, after),
        notices=card_notices(office.site.languages, start=True),
    )


@bp.before_request
def only_for_the_kiosk_pc():
    """The kiosk's screens and reader belong to the kiosk PC's own browser. The office's
    listener refuses them before they get here (kiosk.server); this holds however else the
    app is reached. Its health is for monitoring too, and carries no personal data."""
    if request.endpoint != "citizen.health" and not from_this_pc():
        abort(404)


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
        {
            "id": s.id,
            "name": service_name(s, lang),
            "meaning": service_meaning(s, lang),
            "fee": fee_text(s, lang),
            "paid": bool(s.fee_cents),
            "checked": s.id in CHECKED_VISITS,
        }
        for s in office.site.services.values()
        if s.enabled
    ]
    after, snapshot = citizen_began(), office.reader.snapshot()
    return render_template(
        "citizen/visit.html",
        visits=visits,
        after=after,
        card=card_state_of(snapshot, after),
        notices=card_notices([lang]),
    )


def reactivation_service():
    """The service a card found again after DOC STOP is queued for, when the site offers it."""
    service = office.site.services.get(office.site.rules.reactivation_service)
    return service if service is not None and service.enabled and service.id in CHECKED_VISITS else None


@bp.get("/lost")
def lost_card():
    return render_template(
        "citizen/lost.html",
        phone=DOC_STOP_PHONE,
        phone_abroad=DOC_STOP_PHONE_ABROAD,
        found_again=reactivation_service() is not None,
    )


@bp.get("/lost/found")
def found_card():
    """A lost card found again: when was it blocked with DOC STOP? Within the days allowed
    it is reactivated at the counter (its own visit, with the card); after that it is not."""
    service = reactivation_service()
    if service is None:
        return redirect(url_for("citizen.lost_card"))
    days = office.site.rules.reactivation_days
    answer = request.args.get("days", "")
    if not answer:
        return render_template("citizen/found.html", days=days)
    today = office.queue.today()
    ago = int(answer) if answer.isascii() and answer.isdigit() and int(answer) <= days else days + 1
    blocked_on = today - dt.timedelta(days=ago)
    if not reactivation_in_time(blocked_on, today, office.site.rules):
        return render_template("citizen/found.html", days=days, too_late=True)
    forget_flow()
    Flow(visit=service.id, doc_stop=blocked_on.isoformat(), reader_after=citizen_began()).save(session)
    return redirect(url_for("citizen.identify"))


def begin_visit() -> Flow | None:
    """A visit chosen by ?visit=ID starts a fresh flow; the flow under way, if any."""
    visit_id = request.args.get("visit")
    if visit_id is not None:
        service = office.site.services.get(visit_id)
        forget_flow()
        if service is None or not service.enabled:
            return None
        flow = Flow(
            visit=visit_id,
            lost=request.endpoint == "citizen.type_number",
            reader_after=citizen_began(),
        )
        flow.save(session)
        return flow
    flow = Flow.load(session)
    return flow if flow.visit is not None else None


def current_service(flow: Flow):
    """The service of the flow under way, or None (none chosen, or gone from the site)."""
    service = office.site.services.get(flow.visit or "")
    return service if service is not None and service.enabled else None


@bp.get("/identify")
def identify():
    flow = begin_visit()
    if flow is None:
        return redirect(url_for("citizen.visit"))
    if flow.visit not in CHECKED_VISITS:
        return redirect(url_for("citizen.confirm"))
    after = reader_after(flow)
    snapshot = office.reader.snapshot()
    if own_card(snapshot, after):
        return redirect(url_for("citizen.check"))
    return render_template(
        "citizen/identify.html", visit=flow.visit, after=after, message=reader_message(snapshot, after)
    )


@bp.route("/identify/number", methods=["GET", "POST"])
def type_number():
    flow = begin_visit()
    if flow is None or flow.visit != "pickup":
        return redirect(url_for("citizen.visit"))
    form = NationalNumberForm()
    throttle = office.keypad_throttle
    if request.method == "POST" and throttle.blocked("keypad"):
        # a sweep of numbers would learn from the desk's answers who is in the register
        return render_template("citizen/keypad.html", form=form, too_many=True), 429
    if form.validate_on_submit():
        throttle.count("keypad")
        flow.lost, flow.typed_number = True, form.national_number.data
        flow.save(session)
        return redirect(url_for("citizen.check"))
    return render_template("citizen/keypad.html", form=form)


def visit_card(flow: Flow, *, shown: bool = False):
    """The reader's snapshot of this visit's card: read since the visit was chosen and, when
    a screen is posted (or `shown`), the very card that screen was shown for (not one
    swapped in since). None otherwise. Its checks may follow later: the read stays the same."""
    snapshot = office.reader.snapshot()
    if snapshot.state != ReaderState.READY or snapshot.read is None or snapshot.read <= reader_after(flow):
        return None
    if request.method == "POST" or shown:
        # the read alone would do, except across a restart of the reader service
        if snapshot.read != flow.card_version or card_key(snapshot.card) != flow.card_key:
            return None
    else:
        flow.card_version, flow.card_key = snapshot.read, card_key(snapshot.card)
        flow.save(session)
    return snapshot


class Found(NamedTuple):
    assessment: Assessment
    card: ResidenceCard | None
    national_number: str | None
    checks: CardChecks | None  # None: not known yet (or no card)
    blocked_on: dt.date | None


def pin_reset_offered() -> bool:
    service = office.site.services.get("pin_reset")
    return service is not None and service.enabled


def current_assessment(flow: Flow, visit_id: str, *, shown: bool = False) -> Found | None:
    """The person's card (or typed number) and what the rules say of the visit; None
    when the card is not (or no longer) this visit's."""
    checks = None
    if flow.lost:
        card, national_number = None, flow.typed_number
        if not national_number:
            return None
    else:
        snapshot = visit_card(flow, shown=shown)
        if snapshot is None or snapshot.card is None:
            return None
        card, checks, national_number = snapshot.card, snapshot.checks, snapshot.card.national_number
    blocked_on = dt.date.fromisoformat(flow.doc_stop) if flow.doc_stop else None
    assessment = assess(
        visit_id,
        card=card,
        lost_card=flow.lost,
        today=office.queue.today(),
        pickup=pickups.ready_for(office.engine, national_number) if visit_id == "pickup" else None,
        ticket_without_pickup=office.site.kiosk.ticket_without_pickup,
        checks=checks,
        rules=office.site.rules,
        blocked_on=blocked_on,
        pin_reset_offered=pin_reset_offered(),
    )
    return Found(assessment, card, national_number, checks, blocked_on)


def follow_checks(flow: Flow, visit_id: str, found: Found) -> verdict.Follow | None:
    """For a ticket taken before the card's checks were in: what to add when they come.
    The rules are asked again then, with the same card, day and register entry."""
    card = found.card
    if card is None or found.checks is not None or flow.card_version is None:
        return None
    today, pickup, lost = office.queue.today(), found.assessment.pickup, flow.lost
    rules, without_pickup, offered = office.site.rules, office.site.kiosk.ticket_without_pickup, pin_reset_offered()

    def notes_of(checks: CardChecks) -> tuple[str, ...]:
        return assess(
            visit_id,
            card=card,
            lost_card=lost,
            today=today,
            pickup=pickup,
            ticket_without_pickup=without_pickup,
            checks=checks,
            rules=rules,
            blocked_on=found.blocked_on,
            pin_reset_offered=offered,
        ).notes

    return verdict.Follow(
        office.reader,
        office.queue,
        flow.card_version,
        card_of=lambda checks: checked_card(card, today, checks),
        notes_of=notes_of,
    )


def visit_service(assessment: Assessment, chosen):
    """The service the rules send the citizen to: the one chosen, or another that helps
    (a PIN ticket instead of new codes, for a card whose PIN is reset without the PUK)."""
    routed = office.site.services.get(assessment.visit)
    return routed if routed is not None and routed.enabled else chosen


def screen_form(flow: Flow, checklist) -> ConfirmForm:
    """The ticket form of a screen, carrying the flow id its one ticket is issued for."""
    form = ConfirmForm()
    form.confirmed.choices = list(checklist)
    if flow.flow_id is None:
        flow.flow_id = secrets.token_urlsafe(12)
        flow.save(session)
    form.flow_id.data = flow.flow_id
    return form


@bp.route("/check", methods=["GET", "POST"])
def check():
    if request.method == "POST" and (outcome := issued_before()):
        return answer(outcome)  # a double tap: the first post's ticket
    flow = Flow.load(session)
    service = current_service(flow)
    if service is None:
        return go_home()
    if service.id not in CHECKED_VISITS:
        return redirect(url_for("citizen.confirm"))
    chosen = service.id
    found = current_assessment(flow, chosen)
    if found is None:
        return go_home()
    assessment, card = found.assessment, found.card
    service = visit_service(assessment, service)
    lang = language()
    checklist = checklist_items(assessment, service, lang)
    form = screen_form(flow, checklist_choices(service, checklist, lang))
    if assessment.may_take_ticket and form.validate_on_submit():
        checkin = check_in(
            assessment,
            card=card,
            lost_card=flow.lost,
            national_number=found.national_number,
            checklist=checklist,
            ticked=set(form.confirmed.data or ()),
            today=office.queue.today(),
            checks=found.checks,
            blocked_on=found.blocked_on,
        )
        follow = follow_checks(flow, chosen, found)
        contact = (form.contact.data or "") if asks_contact(assessment.visit) else ""
        return take_ticket(flow, service.id, checkin, contact, follow)
    return render_template(
        "citizen/check.html",
        assessment=assessment,
        form=form,
        service=service,
        service_title=service_name(service, lang),
        fee=fee_text(service, lang),
        card=card,
        checks=found.checks,
        lost=flow.lost,
        card_version=flow.card_version,
        rules=office.site.rules,
        asks_contact=asks_contact(assessment.visit),
        turn_soon_ahead=office.site.kiosk.turn_soon_ahead,
    )


def asks_contact(visit: str) -> bool:
    """The screen before the ticket offers a contact field for a code request (to tell the
    citizen the codes are in) and, where the site sends one, for a message when the turn is
    near, whatever the visit."""
    return visit == "new_codes" or bool(office.site.kiosk.turn_soon_ahead)


@bp.get("/check/findings")
def check_findings():
    """The check screen's notes again, for the screen to show once the card's checks are in
    (kiosk.js): for the very card the screen was shown for, or nothing."""
    flow = Flow.load(session)
    service = current_service(flow)
    found = current_assessment(flow, service.id, shown=True) if service and service.id in CHECKED_VISITS else None
    if service is None or found is None or not found.assessment.may_take_ticket:
        abort(404)
    response = current_app.make_response(
        render_template(
            "citizen/_findings.html",
            assessment=found.assessment,
            lost=flow.lost,
            fee=fee_text(visit_service(found.assessment, service), language()),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


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
    # the form posts to this same address, ?visit= and all
    flow = (begin_visit() if request.method == "GET" else None) or Flow.load(session)
    service = current_service(flow)
    if service is None:
        return go_home()
    if service.id in CHECKED_VISITS:
        return redirect(url_for("citizen.identify"))
    lang = language()
    checklist = site_items(service, lang)
    form = screen_form(flow, checklist_choices(service, checklist, lang))
    if form.validate_on_submit():
        checkin = check_in(
            site_service(service.id),
            card=None,
            lost_card=False,
            national_number=None,
            checklist=checklist,
            ticked=set(form.confirmed.data or ()),
            today=office.queue.today(),
        )
        contact = (form.contact.data or "") if asks_contact(service.id) else ""
        return take_ticket(flow, service.id, checkin, contact)
    return render_template(
        "citizen/confirm.html",
        form=form,
        service_id=service.id,
        service_title=service_name(service, lang),
        fee=fee_text(service, lang),
        paid=bool(service.fee_cents),
        asks_contact=asks_contact(service.id),
        turn_soon_ahead=office.site.kiosk.turn_soon_ahead,
    )


def issued_before() -> Outcome:
    """What an earlier post of this screen got, checked before the card: the citizen may
    pull it right after tapping, and the second post of a double tap must still show the
    first one's ticket."""
    return ticketing.taken(request.form.get("flow_id"))


def take_ticket(flow: Flow, visit_id: str, checkin: CheckIn, contact: str, follow: verdict.Follow | None = None):
    """Issue this screen's one ticket (kiosk.ticketing); a second post of the same screen
    gets the same one. `follow`: the card's checks, still being read, go to the ticket's
    check-in as soon as they come."""
    flow_id = request.form.get("flow_id")
    if not flow_id or flow_id != flow.flow_id:
        return go_home()
    reasons = service_state.reasons()  # however the screen was reached: no ticket it cannot deliver
    if reasons:
        log.warning("kiosk out of service: %s", ", ".join(reasons))
        return out_of_service(reasons)
    outcome = ticketing.take(
        office, flow_id, visit=visit_id, language=language(), checkin=checkin, contact=contact, remember=show_ticket
    )
    if follow is not None and isinstance(outcome, Issued):
        follow.start(outcome.ticket_id)
    return answer(outcome)


def show_ticket(issued: Issued) -> None:
    """The flow ends with its ticket: only that stays, for the ticket screen."""
    forget_flow()
    Flow(ticket=issued).save(session)


def answer(outcome: Outcome):
    if isinstance(outcome, Refused):
        forget_flow()
        return render_template("citizen/refused.html", code=outcome.code), 409
    if outcome is None:  # the first post failed before there was a ticket
        return go_home()
    show_ticket(outcome)
    return redirect(url_for("citizen.ticket"))


@bp.get("/ticket")
def ticket():
    issued = Flow.load(session).ticket
    if issued is None:
        return redirect(url_for("citizen.home"))
    print_failed = issued.print_failed
    try:
        ticket = office.queue.ticket(issued.ticket_id)
        place = office.queue.place(ticket)
        ahead = office.site.kiosk.turn_soon_ahead
        details = {
            "number": ticket.number,
            "place": place,
            "preview": preview_html(ticket, place),
            "turn_soon_ahead": ahead if ahead and turn_soon.subscribed(office.engine, ticket.id) else 0,
        }
    except Exception as exc:  # noqa: BLE001 - the number alone still tells the citizen their turn
        log.error("ticket %s shown without details (%s)", issued.number, describe(exc))
        details = {"number": issued.number, "place": None, "preview": None, "turn_soon_ahead": 0}
    screen_only = print_failed or details["preview"] is None
    return render_template(
        "citizen/ticket.html",
        **details,
        print_failed=print_failed,
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
    elif not office.card_waits.acquire(blocking=False):
        # each waiting answer holds a thread of the kiosk's listener: a few, never all of them
        response = jsonify(error="busy", message="Too many screens wait for the card; ask again.")
        response.status_code, response.headers["Retry-After"] = 429, "1"
        return response
    else:
        try:
            snapshot = office.reader.wait_for_change(after, CARD_WAIT_S)
        finally:
            office.card_waits.release()
    # what the screens need to move on, and not a word of the card itself
    return jsonify(
        state=str(snapshot.state),
        error=None if snapshot.error is None else str(snapshot.error),
        version=snapshot.version,
        read=snapshot.read,  # the card on screen stays this read while its checks follow
        checked=snapshot.checks is not None,
        card_is_in=card_is_in(snapshot),
    )


@bp.get("/health")
def health():
    """This kiosk's state for its own screen and for facility staff: no personal data."""
    reasons = service_state.reasons()
    printer = office.printer.check_status()
    offset = office.clock.offset_s  # this PC's clock minus the office's (the database's)
    response = jsonify(
        kiosk=office.member.name,
        in_service=not reasons,
        reasons=reasons,
        reader=str(office.reader.snapshot().state),
        printer=printer.as_dict(),
        clock_offset_s=None if offset is None else round(offset, 3),
    )
    response.status_code = 503 if reasons else 200  # for monitoring tools
    return response


@bp.get("/supervisor")
def supervisor_state():
    """For the screen's supervisor (kiosk.screen), on this PC: the browser restarts facility
    staff asked for, and whether the page still reports in (None just after the start)."""
    member = office.member
    return jsonify(browser_restarts=member.restarts["browser"], screen_alive=member.screen_alive)


@bp.get("/screen")
def screen_state():
    """Asked by the kiosk's own page twice a second: in service or not, and the reloads asked
    by facility staff. That it asks is also how the heartbeat knows the screen is alive."""
    member = office.member
    member.screen_asked()
    return jsonify(in_service=not service_state.reasons(), reloads=member.reloads)


# --- the simulated reader, for demos and development --------------------------------------


def simulated_reader():
    if office.site.reader.kind != "simulated" or not from_this_pc():
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
