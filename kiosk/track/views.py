"""Status page routes: the page, the fragment it refreshes, and the page without a token."""

from __future__ import annotations

import math

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import force_locale

from .. import turn_soon
from ..extensions import office
from ..i18n import RIGHT_TO_LEFT
from ..live import POLL_INTERVAL_MS, counter_name, service_label, version_url

bp = Blueprint("track", __name__, url_prefix="/t")


@bp.after_request
def _private(response):
    # The token in the address is the key to the page: keep it out of caches, referrers, indexes.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/")
def index():
    return render_template("track/index.html")


def _render(token: str, template: str, alert_problem: str | None = None):
    ticket = office.queue.ticket_by_token(token)
    asked = request.args.get("lang")
    language = (
        asked
        if asked in office.site.languages
        else (ticket.language if ticket and ticket.language in office.site.languages else g.lang)
    )
    g.lang, g.dir = language, "rtl" if language in RIGHT_TO_LEFT else "ltr"
    with force_locale(language):
        if ticket is None:
            return render_template(template, ticket=None), 404
        status = 400 if alert_problem else 200
        place = office.queue.place(ticket)
        ahead_at_most = office.site.kiosk.turn_soon_ahead
        return render_template(
            template,
            ticket=ticket,
            place=place,
            turn_soon_ahead=ahead_at_most,
            alert_asked=bool(ahead_at_most) and turn_soon.subscribed(office.engine, ticket.id),
            alert_problem=alert_problem,
            alert_url=url_for("track.alert", token=token, lang=asked if asked == language else None),
            wait_minutes=math.ceil(place.estimated_wait_s / 60) if place else None,
            service=service_label(ticket.service, language),
            counter=counter_name(ticket.counter) if ticket.counter else None,
            status_url=url_for("track.status", token=token, lang=asked if asked == language else None),
            poll_ms=POLL_INTERVAL_MS,
            version_url=version_url(),
        ), status


@bp.get("/<token>")
def page(token: str):
    return _render(token, "track/page.html")


@bp.get("/<token>/status")
def status(token: str):
    return _render(token, "track/_status.html")


@bp.post("/<token>/alert")
def alert(token: str):
    """A message when the turn is near, to the contact typed on this page (the citizen's own
    phone, so nobody at the kiosk sees it)."""
    ticket = office.queue.ticket_by_token(token)
    if ticket is None or not office.site.kiosk.turn_soon_ahead:
        abort(404)
    try:
        turn_soon.subscribe(office.engine, ticket.id, request.form.get("contact", ""), office.clock())
    except ValueError as exc:
        return _render(token, "track/page.html", alert_problem=str(exc))
    return redirect(url_for("track.page", token=token, lang=request.args.get("lang")), 303)
