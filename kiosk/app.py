"""The application factory; it reads as the table of contents of the app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response

from . import commands, errors, logs, metrics
from .config import build_config
from .extensions import babel, csrf, office
from .i18n import select_locale, set_language_globals

PACKAGE = Path(__file__).parent

# Scripts and styles come from this server only (no inline scripts anywhere), no page may
# be framed (clickjacking the desk's buttons), forms post only here. Inline style attributes
# stay allowed: the on-screen ticket preview shares its markup with the printed one. Sound
# too comes from here only: the board plays its chime and spoken calls from their own
# addresses, never as blob: URLs.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _assets(name: str) -> str:
    """templates/ and static/ sit beside the package in a checkout, inside it when installed."""
    inside = PACKAGE / name
    return str(inside if inside.is_dir() else PACKAGE.parent / name)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=_assets("templates"), static_folder=_assets("static"))
    app.config.from_mapping(build_config(app.instance_path, config))
    register_extensions(app)
    register_blueprints(app)
    errors.register_errorhandlers(app)
    app.after_request(security_headers)
    commands.register_commands(app)
    return app


def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_extensions(app: Flask) -> None:
    office.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(PACKAGE / "translations"))
    app.before_request(set_language_globals)
    app.context_processor(lambda: {"site": office.site})
    metrics.init_app(app)
    logs.init_app(app)


def register_blueprints(app: Flask) -> None:
    from .accounts.views import bp as accounts
    from .api.routes import bp as api
    from .board.views import bp as board
    from .citizen.views import bp as citizen
    from .desk.views import bp as desk
    from .home import bp as home
    from .live import VersionPolls
    from .office.views import bp as back_office
    from .ops.views import bp as ops
    from .supervision.views import bp as supervision
    from .track.views import bp as track

    csrf.exempt(api)  # JSON only, with bearer tokens; staff sessions are checked in kiosk.auth
    for blueprint in (home, api, citizen, accounts, desk, board, track, ops, back_office, supervision, metrics.bp):
        app.register_blueprint(blueprint)
    # Live screens poll the queue version twice a second: answered before Flask (kiosk.live).
    app.wsgi_app = VersionPolls(app.wsgi_app, app.extensions["office"]["queue"])  # type: ignore[method-assign]  # WSGI middleware, as Flask documents
