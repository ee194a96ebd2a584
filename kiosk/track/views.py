"""Status page routes: the page, the fragment it refreshes, and the page without a token."""

from __future__ import annotations

import math

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import force_locale

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


def _render(token: str, template: str):
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
        place = office.queue.place(ticket)
        return render_template(
            template,
            ticket=ticket,
            place=place,
            wait_minutes=math.ceil(place.estimated_wait_s / 60) if place else None,
            service=service_label(ticket.service, language),
            counter=counter_name(ticket.counter) if ticket.counter else None,
            status_url=url_for("track.status", token=token, lang=asked if asked == language else None),
            poll_ms=POLL_INTERVAL_MS,
            version_url=version_url(),
        )


@bp.get("/<token>")
def page(token: str):
    return _render(token, "track/page.html")


@bp.get("/<token>/status")
def status(token: str):
    return _render(token, "track/_status.html")
