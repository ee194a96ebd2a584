"""The landing page: one link per screen, for whoever sets the office up."""

from flask import Blueprint, current_app, render_template, url_for

from ..auth import from_this_pc
from ..extensions import office

bp = Blueprint("home", __name__)

# endpoint, name, purpose; in the order of README's Screens table.
SCREENS = [
    ("citizen.home", "Kiosk", "the touch screen where citizens check in and take a ticket"),
    (
        "citizen.dev_cards",
        "Simulated card reader",
        "insert and remove fake cards in this PC's simulated reader (demo and development)",
    ),
    ("accounts.login", "Sign in", "clerks, supervisors and facility staff"),
    ("desk.index", "Desk", "clerks call, serve and finish tickets"),
    ("board.index", "Board", "the hall display with the called numbers"),
    ("track.index", "Status page", "what the QR code on a ticket opens on a phone"),
    ("api.openapi", "API", "the OpenAPI description of the JSON API"),
    ("ops.index", "Facility", "kiosk health: reader, printer, heartbeat"),
]


def unavailable(endpoint: str) -> str | None:
    """Why a screen cannot be opened from here, or None when it can."""
    if endpoint not in current_app.view_functions:
        return "not built yet"
    if endpoint == "citizen.dev_cards":
        if office.site.reader.kind != "simulated":
            return "this site's card reader is a real one"
        if not from_this_pc():
            return "only in the browser of the PC it runs on"
    return None


@bp.get("/")
def index():
    screens = []
    for endpoint, name, purpose in SCREENS:
        reason = unavailable(endpoint)
        screens.append(
            {"name": name, "purpose": purpose, "reason": reason, "url": None if reason else url_for(endpoint)}
        )
    return render_template("home/index.html", screens=screens)
