"""The landing page: one link per screen, for whoever sets the office up."""

from flask import Blueprint, current_app, render_template, request, url_for

from ..auth import from_this_pc, is_loopback
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
    ("ops.index", "Kiosks", "facility staff: every kiosk's state and alerts, out of service, reload, restart"),
    ("office.index", "Back office", "clerks and supervisors: the pickup register and the code requests"),
]


def unavailable(endpoint: str) -> str | None:
    """Why a screen cannot be opened from here, or None when it can."""
    if endpoint not in current_app.view_functions:
        return "not built yet"
    if endpoint == "citizen.dev_cards" and office.site.reader.kind != "simulated":
        return "this site's card reader is a real one"
    if endpoint.startswith("citizen.") and not (from_this_pc() or kiosk_url()):
        return "only in the browser of the kiosk PC, on the kiosk's own port"
    return None


def kiosk_url() -> str | None:
    """The kiosk listener's address for a browser on this same PC (`kiosk serve` sets it)."""
    return current_app.config.get("KIOSK_URL") if is_loopback(request.remote_addr) else None


def screen_url(endpoint: str) -> str:
    if endpoint.startswith("citizen.") and not from_this_pc():
        return f"{kiosk_url()}{url_for(endpoint)}"  # the kiosk's screens are on the kiosk's listener
    return url_for(endpoint)


@bp.get("/")
def index():
    screens = []
    for endpoint, name, purpose in SCREENS:
        reason = unavailable(endpoint)
        screens.append(
            {"name": name, "purpose": purpose, "reason": reason, "url": None if reason else screen_url(endpoint)}
        )
    return render_template("home/index.html", screens=screens)
