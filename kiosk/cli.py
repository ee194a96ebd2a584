"""The `kiosk` command: the app's own commands (kiosk.commands) and the demo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click
from flask.cli import FlaskGroup
from sqlalchemy.engine import make_url

from .app import create_app
from .commands import listener_options, listeners, run_server
from .extensions import office
from .installed import load_environment, not_as_root_for
from .site import SiteProfileError


def _create_app():
    installed = load_environment()
    if os.environ.get("KIOSK_DATA_DIR") and (refusal := not_as_root_for(Path(os.environ["KIOSK_DATA_DIR"]))):
        raise click.ClickException(refusal)  # before the app makes its first file there
    try:
        app = create_app()
    except SiteProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if refusal := not_as_root_for(Path(app.config["DATA_DIR"])):
        raise click.ClickException(refusal)
    # which office this command is about to act on, beside its answer (stdout)
    database = make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)
    origin = f"settings from {installed}" if installed else "no installed settings"
    click.echo(f"kiosk: database {database} ({origin})", err=True)
    return app


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False, load_dotenv=False
)
def main():
    """Snelbalie kiosk. The site profile is KIOSK_SITE (default: the demo profile)."""


@main.command()
@listener_options
def demo(host: str, port: int, kiosk_port: int, no_kiosk: bool, threads: int):
    """Start the demo: demo data and the site profile KIOSK_SITE (default: the demo profile)."""
    from .demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
    from .storage import migrate

    try:
        app = create_app()  # the site profile named by KIOSK_SITE, else the demo profile
    except SiteProfileError as exc:
        raise click.ClickException(str(exc)) from None
    site = app.config["SITE_PROFILE"]
    origin = "from KIOSK_SITE" if os.environ.get("KIOSK_SITE") else "the demo profile; KIOSK_SITE names another"
    click.echo(f"Site profile: {site.path} ({origin})")
    printer = site.printer.kind
    if printer == "simulated":
        printer += f", mode {site.printer.checked.mode}"
    click.echo(f"Card reader: {site.reader.kind}; ticket printer: {printer}")
    with app.app_context():
        migrate(office.engine)
        loaded = load_demo_data()
    if loaded.pickups:
        click.echo(f"Demo pickup register: {loaded.pickups} new cards")
    if loaded.waiting:
        click.echo(f"Demo tickets waiting: {', '.join(loaded.waiting)}")
    for reason in loaded.left_out:
        click.echo(f"Demo data left out: {reason}")
    click.echo(f"Demo sign-ins at /login: {', '.join(DEMO_USERS)} (password {DEMO_PASSWORD})")
    if shutil.which("espeak-ng") is None:
        click.echo(
            "espeak-ng is not installed: the board chimes but does not speak the calls "
            "(as root, ./run demo installs it)"
        )
    run_server(app, listeners(site, host, port, kiosk_port, no_kiosk, threads))


if __name__ == "__main__":
    main()
