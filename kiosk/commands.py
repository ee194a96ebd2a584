"""The app's commands (serve, init-db, token, translations, queue, pickups, card, user), on `app.cli`."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .tokens import TOKEN_ROLES

TRANSLATIONS = Path(__file__).with_name("translations")


def register_commands(app: Flask) -> None:
    from .accounts.cli import user

    for command in (serve, init_db, token, translations, queue_cli, pickups_cli, card_cli, user):
        app.cli.add_command(command)


def _office():
    from .extensions import office

    return office


def listener_options(command):
    """--host, --port (the office's listener), --kiosk-port or --no-kiosk, --threads."""
    for option in reversed(
        [
            click.option("--host", default="127.0.0.1", show_default=True, help="the office's listener: desks, API"),
            click.option("--port", default=8080, show_default=True, type=int),
            click.option(
                "--kiosk-port",
                default=8081,
                show_default=True,
                type=int,
                help="the kiosk screen's listener, always on 127.0.0.1",
            ),
            click.option("--no-kiosk", is_flag=True, help="no kiosk screen on this machine (an office server)"),
            click.option(
                "--threads",
                default=8,
                show_default=True,
                type=int,
                help="the office listener's worker threads (each open streaming response holds one)",
            ),
        ]
    ):
        command = option(command)
    return command


def listeners(site, host: str, port: int, kiosk_port: int, no_kiosk: bool, threads: int):
    from .server import Listeners, trusted_hosts

    return Listeners(
        office_host=host,
        office_port=port,
        kiosk_port=None if no_kiosk else kiosk_port,
        threads=threads,
        trusted_proxy=site.server.trusted_proxy,
        hosts=tuple(trusted_hosts(site.public_url, site.server.hosts)),
    )


@click.command()
@listener_options
@with_appcontext
def serve(host: str, port: int, kiosk_port: int, no_kiosk: bool, threads: int):
    """Serve the app with waitress: the office's listener and the kiosk screen's own."""
    from .storage import schema_is_current

    if not schema_is_current(_office().engine):
        raise click.ClickException("The database is not up to date: run `kiosk init-db` first.")
    # the app itself, not the context-local proxy: waitress serves it from its own threads
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_server(app, listeners(_office().site, host, port, kiosk_port, no_kiosk, threads))


def run_server(app: Flask, where) -> None:
    from . import housekeeping, server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    servers = server.make_servers(app, where)
    click.echo(f"Serving {app.config['SITE_PROFILE'].municipality} on {server.url(servers[server.OFFICE])}")
    if server.KIOSK in servers:
        kiosk_url = server.url(servers[server.KIOSK])
        app.config["KIOSK_URL"] = kiosk_url
        click.echo(f"The kiosk screen, for this PC's own browser only: {kiosk_url}/kiosk/")
    housekeeping.Timer(app).start()
    server.run(servers)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or migrate the database to the newest schema."""
    from .storage import migrate

    migrate(_office().engine)
    click.echo("Database is up to date.")


@click.group()
def token():
    """API tokens for kiosks, desks and facility tools."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(TOKEN_ROLES))
@click.option("--name", required=True, help="who or what uses it, e.g. 'kiosk hall left'")
@with_appcontext
def token_create(role: str, name: str):
    """Make a token and print it once (only its hash is kept)."""
    from .tokens import create_token

    office = _office()
    click.echo(create_token(office.engine, role, name, office.clock()))


@token.command("revoke")
@click.option("--name", required=True, help="the name given at `token create`")
@with_appcontext
def token_revoke(name: str):
    """Revoke the tokens of that name (they stop working within seconds)."""
    from .tokens import revoke_tokens

    office = _office()
    count = revoke_tokens(office.engine, name, office.clock())
    if not count:
        raise click.ClickException(f"No valid token is named {name!r}.")
    click.echo(f"Revoked {count} token(s) named {name!r}.")


@click.group()
def translations():
    """Flask-Babel catalogs: extract, update, compile."""


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)


@translations.command("extract")
def translations_extract():
    """Collect translatable texts into messages.pot and update every language's catalog."""
    root = Path(__file__).parent.parent
    pot = TRANSLATIONS / "messages.pot"
    _pybabel(
        "extract",
        "-F",
        str(root / "babel.cfg"),
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--project",
        "Snelbalie kiosk",
        "-o",
        str(pot),
        str(root),
    )
    if any(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        _pybabel("update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")


@translations.command("add")
@click.argument("language")
def translations_add(language: str):
    """Start a catalog for a new language (then translate kiosk/translations/LANG/...)."""
    _pybabel("init", "-i", str(TRANSLATIONS / "messages.pot"), "-d", str(TRANSLATIONS), "-l", language)


@translations.command("compile")
def translations_compile():
    """Compile the .po catalogs to the .mo files the app reads."""
    if any(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        _pybabel("compile", "-d", str(TRANSLATIONS))


@click.group("queue")
def queue_cli():
    """Daily housekeeping (also done with the first ticket of each day)."""


@queue_cli.command("close-day")
@with_appcontext
def queue_close_day():
    """Expire tickets left open on earlier days and forget personal data past retention."""
    from .housekeeping import close_day

    report = close_day(_office())
    click.echo(
        f"{report.expired} tickets expired, personal data removed from {report.tickets_purged} "
        f"tickets and {report.code_requests_purged} code requests, "
        f"{report.pickups_purged} collected cards removed from the pickup register."
    )


@click.group("pickups")
def pickups_cli():
    """The pickup register: new cards ready in the office."""


@pickups_cli.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def pickups_import(file):
    """Add or update the register from a CSV file (see README); a bad row rejects the file."""
    from sqlalchemy.exc import DBAPIError

    from .pickups import PickupImportError, import_pickups

    office = _office()
    try:
        count = import_pickups(office.engine, file.read(), office.queue.today(), office.clock())
    except PickupImportError as exc:
        raise click.ClickException(str(exc)) from None
    except DBAPIError as exc:
        # the import is one transaction: a failure at any point leaves the register as it was
        raise click.ClickException(
            f"The database failed during the import ({type(exc.orig or exc).__name__}); nothing was imported. "
            "Import the file again once the database is back."
        ) from None
    click.echo(f"{count} cards in the pickup register imported.")


@click.group("card")
def card_cli():
    """Insert or remove a simulated card in a running kiosk on this PC."""


def _post_card(url: str, action: str, card: str | None = None) -> dict:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{url.rstrip('/')}/kiosk/dev/cards/{action}",
        data=json.dumps({"card": card}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise click.ClickException(json.load(exc).get("message", str(exc))) from None
    except OSError as exc:
        raise click.ClickException(f"No kiosk answers at {url}: {exc}") from None


@card_cli.command("insert")
@click.argument("card")
@click.option("--url", default="http://127.0.0.1:8081", show_default=True)
def card_insert(card: str, url: str):
    """Insert the fake card CARD (see /kiosk/dev/cards for the list)."""
    _post_card(url, "insert", card)
    click.echo(f"Inserted {card}.")


@card_cli.command("remove")
@click.option("--url", default="http://127.0.0.1:8081", show_default=True)
def card_remove(url: str):
    """Take the card out of the simulated reader."""
    _post_card(url, "remove")
    click.echo("Card removed.")
