"""The landing page: one link per screen, for whoever sets the office up."""
from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint("home", __name__)

SCREENS = [
    ("citizen.home", "Kiosk", "the touch screen where citizens check in and take a ticket"),
    ("desk.index", "Desk", "clerks call, serve and finish tickets"),
    ("board.index", "Board", "the hall display with the called numbers"),
    ("track.index", "Status page", "what the QR code on a ticket opens on a phone"),
    ("ops.index", "Facility", "kiosk health: reader, printer, heartbeat"),
    ("api.openapi", "API", "the OpenAPI description of the JSON API"),
]


@bp.get("/")
def index():
    screens = [
        {"name": name, "purpose": purpose, "ready": endpoint in current_app.view_functions,
         "url": url_for(endpoint) if endpoint in current_app.view_functions else None}
        for endpoint, name, purpose in SCREENS
    ]
    return render_template("home/index.html", screens=screens)
