"""Back-office screens: the pickup register and the code requests. The rules are the
domain's (kiosk.pickups, kiosk.code_requests); these views turn forms into calls."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import code_requests, outbox, pickups
from ..accounts.views import staff_page
from ..api.routes import by_whom
from ..auth import current_principal
from ..extensions import office
from ..i18n import LANGUAGE_NAMES

bp = Blueprint("office", __name__, url_prefix="/office")

CLERKS = ("clerk", "supervisor")  # read the register, hand cards over, take a code request's fee
SUPERVISORS = ("supervisor",)  # keep the register, mark codes arrived or destroyed
PREVIEW_ROWS = 20
LISTED = 200

STATE_NAMES = {
    "requested": _l("Requested at the kiosk"),
    "ordered": _l("Ordered"),
    "arrived": _l("Arrived"),
    "notified": _l("Citizen told"),
    "reminded": _l("Reminded"),
    "collected": _l("Collected"),
    "destroyed": _l("Destroyed"),
    "cancelled": _l("Cancelled"),
}
NEXT_STEPS = {
    "take_fee": _l("Take the fee at the desk"),
    "await_codes": _l("Mark arrived when the codes come in"),
    "tell_citizen": _l("No contact left: tell the citizen by letter or phone"),
    "await_citizen": _l("Wait for the citizen"),
    "destroy": _l("Not collected in time: destroy the codes"),
    "none": "",
}
PICKUP_STATUSES = {
    "ready": _l("Waiting to be collected"),
    "reminder_due": _l("Waiting long: reminder due"),
    "collected": _l("Collected"),
}


def navigation() -> dict:
    """The links between the back office's screens (the supervision blueprint's too): those
    this app serves and the signed-in member may open."""
    principal = current_principal()
    role = principal.role if principal else None
    links = [
        ("office.index", _("Overview"), CLERKS),
        ("office.pickup_register", _("Pickup register"), CLERKS),
        ("office.code_request_list", _("Code requests"), CLERKS),
        ("supervision.stats", _("Statistics"), SUPERVISORS),
        ("supervision.live", _("Live"), SUPERVISORS),
        ("supervision.log", _("Log"), SUPERVISORS),
        ("ops.index", _("Kiosks"), SUPERVISORS),
    ]
    return {
        "nav": [
            {"url": url_for(endpoint), "name": name, "current": request.endpoint == endpoint}
            for endpoint, name, roles in links
            if endpoint in current_app.view_functions and role in roles
        ]
    }


bp.context_processor(navigation)


def _page(template: str, **context) -> str:
    return render_template(template, principal=current_principal(), **context)


@bp.get("/")
@staff_page(*CLERKS)
def index():
    return _page(
        "office/index.html",
        code_counts=code_requests.counts(office.engine),
        reminders_due=len(_pickup_entries("reminder_due", "")),
        unsent=outbox.pending(office.engine)[:LISTED],
        failed=outbox.failures(office.engine)[:LISTED],
        may_keep=current_principal().role in SUPERVISORS,  # type: ignore[union-attr]
    )


@bp.post("/messages/<int:message_id>/retry")
@staff_page(*SUPERVISORS)
def message_retry(message_id: int):
    """A message given up (the mail server was away for a day, say), tried again."""
    if outbox.retry(office.engine, message_id, office.clock()):
        flash(_("Message %(id)d will be sent again.", id=message_id))
    else:
        flash(_("Message %(id)d cannot be sent again.", id=message_id), "error")
    return redirect(url_for(".index"))


# --- the pickup register --------------------------------------------------------------------


def _pickup_entries(status: str, query: str) -> list[pickups.Entry]:
    return pickups.entries(
        office.engine, status, query, office.queue.today(), office.site.pickup_reminder_days, limit=LISTED
    )


def _register_filter() -> tuple[str, str]:
    status = request.args.get("status", "ready")
    if status not in pickups.STATUSES:
        status = "ready"
    return status, request.args.get("q", "")[:100]


@bp.get("/pickups")
@staff_page(*CLERKS)
def pickup_register(preview: dict | None = None, problems: list[str] | None = None, form: dict | None = None):
    status, query = _register_filter()
    return _page(
        "office/pickups.html",
        entries=_pickup_entries(status, query),
        status=status,
        query=query,
        statuses=PICKUP_STATUSES,
        listed=LISTED,
        reminder_days=office.site.pickup_reminder_days,
        may_keep=current_principal().role in SUPERVISORS,  # type: ignore[union-attr]  # staff_page let a member in
        preview=preview,
        problems=problems,
        form=form or {},
        language_names=LANGUAGE_NAMES,
    )


@bp.post("/pickups/upload")
@staff_page(*SUPERVISORS)
def pickup_upload():
    """Checks the file and shows what it holds; nothing is written until it is confirmed."""
    request.max_content_length = current_app.config["REGISTER_UPLOAD_MAX"]
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    if not data:
        return pickup_register(problems=[_("Choose the register file (CSV) to upload.")]), 400
    try:
        rows = pickups.parse_pickups(data, office.queue.today())
    except pickups.PickupImportError as exc:
        return pickup_register(problems=exc.problems), 400
    # The checked file goes back to the browser with the preview, not into a store here: an
    # upload nobody confirms leaves no personal data behind.
    text = data.decode("utf-8-sig")
    return pickup_register(preview={"count": len(rows), "rows": rows[:PREVIEW_ROWS], "text": text})


@bp.post("/pickups/import")
@staff_page(*SUPERVISORS)
def pickup_import():
    request.max_content_length = current_app.config["REGISTER_UPLOAD_MAX"]
    request.max_form_memory_size = current_app.config["REGISTER_UPLOAD_MAX"]
    data = request.form.get("text", "").encode()
    try:
        count = pickups.import_pickups(office.engine, data, office.queue.today(), office.clock())
    except pickups.PickupImportError as exc:  # the register changed meanwhile? checked again
        return pickup_register(problems=exc.problems), 400
    flash(_("Cards imported into the register: %(count)d.", count=count))
    return redirect(url_for(".pickup_register"))


@bp.post("/pickups/save")
@staff_page(*SUPERVISORS)
def pickup_save():
    """Add one card, or correct one (the card number says which)."""
    values = {name: request.form.get(name, "") for name in (*pickups.COLUMNS, *pickups.OPTIONAL_COLUMNS)}
    try:
        saved = pickups.save(office.engine, values, office.queue.today(), office.clock())
    except pickups.PickupImportError as exc:
        return pickup_register(problems=exc.problems, form=values), 400
    flash(_("Card %(number)s saved: it waits at %(storage)s.", number=saved.card_number, storage=saved.storage))
    return redirect(url_for(".pickup_register", q=saved.card_number))


@bp.post("/pickups/<card_number>/collected")
@staff_page(*CLERKS)
def pickup_collected(card_number: str):
    if pickups.mark_collected(office.engine, card_number, by_whom(), office.clock()):
        flash(_("Card %(number)s handed over.", number=card_number))
    else:
        flash(_("Card %(number)s is not waiting in the register.", number=card_number), "error")
    return redirect(url_for(".pickup_register", status=request.args.get("status"), q=request.args.get("q")))


@bp.get("/pickups.<kind>")
@staff_page(*SUPERVISORS)
def pickup_export(kind: str):
    status, query = _register_filter()
    items = pickups.entries(
        office.engine, status, query, office.queue.today(), office.site.pickup_reminder_days, limit=1_000_000
    )
    name = f"pickups-{status}-{office.queue.today().isoformat()}"
    if kind == "csv":
        body, mimetype = pickups.to_csv(items), "text/csv; charset=utf-8"
    elif kind == "xlsx":
        body, mimetype = pickups.to_xlsx(items), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: not kept by any cache
    return response


@bp.get("/pickups/reminders")
@staff_page(*SUPERVISORS)
def pickup_reminders():
    """Reminder letters for the cards waiting long, one a page, to print: those with a
    contact get a message instead (kiosk.pickups.send_reminders)."""
    due = [entry for entry in _pickup_entries("reminder_due", "") if entry.contact is None]
    return _page("office/reminder_letters.html", entries=due)


@bp.post("/pickups/reminders/printed")
@staff_page(*SUPERVISORS)
def pickup_reminders_printed():
    cards = request.form.getlist("card")[:LISTED]
    count = pickups.mark_reminded(office.engine, cards, office.clock())
    flash(_("Reminders marked as sent: %(count)d.", count=count))
    return redirect(url_for(".pickup_register", status="reminder_due"))


# --- code requests --------------------------------------------------------------------------


@bp.get("/code-requests")
@staff_page(*CLERKS)
def code_request_list():
    state = request.args.get("state") or None
    if state not in (None, *code_requests.STATES):
        state = None
    return _page(
        "office/code_requests.html",
        items=code_requests.listing(office.engine, office.site.codes, office.queue.today(), state),
        state=state,
        counts=code_requests.counts(office.engine),
        state_names=STATE_NAMES,
        next_steps=NEXT_STEPS,
        may_keep=current_principal().role in SUPERVISORS,  # type: ignore[union-attr]
    )


@bp.post("/code-requests/<int:request_id>/<to>")
@staff_page(*CLERKS)
def code_request_move(request_id: int, to: str):
    if to not in code_requests.MOVES:
        abort(404)
    if to in ("arrived", "destroyed") and current_principal().role not in SUPERVISORS:  # type: ignore[union-attr]
        abort(403, description=_("Your account may not do this."))
    try:
        state = code_requests.move(
            office.engine, request_id, to, by_whom(), office.clock(), request.form.get("reason", "")
        )
        flash(_("Request %(id)d: %(state)s.", id=request_id, state=STATE_NAMES[state]))
    except code_requests.MoveRefused as exc:
        where = STATE_NAMES.get(exc.status or "", _("unknown"))
        flash(_("Request %(id)d is %(state)s: that cannot be done now.", id=request_id, state=where), "error")
    except ValueError:
        flash(_("Say why the request is cancelled (at most 200 characters)."), "error")
    return redirect(url_for(".code_request_list", state=request.args.get("state") or None))


@bp.post("/code-requests/arrived")
@staff_page(*SUPERVISORS)
def code_requests_arrived():
    """A delivery of codes: the national numbers on its envelopes, one a line."""
    numbers = [pickups.digits_only(line) for line in request.form.get("numbers", "").splitlines()[:500]]
    marked, unknown = code_requests.arrived_for(office.engine, [n for n in numbers if n], by_whom(), office.clock())
    flash(_("Requests marked arrived: %(count)d.", count=len(marked)))
    if unknown:
        flash(_("No ordered request for: %(numbers)s", numbers=", ".join(unknown)), "error")
    return redirect(url_for(".code_request_list"))
