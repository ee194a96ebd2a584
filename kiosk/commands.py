"""The app's commands (serve, init-db, backup, restore, token, translations, queue, pickups, card, user), on
`app.cli`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .tokens import TOKEN_ROLES

TRANSLATIONS = Path(__file__).with_name("translations")
MIGRATE_RETRY_S = 3.0
START_LOCK_WAIT_S = 5.0  # at start, another instance's migration is waited for this long, then in the background

log = logging.getLogger(__name__)


def register_commands(app: Flask) -> None:
    from .accounts.cli import user

    for command in (serve, init_db, backup, restore, token, translations, queue_cli, pickups_cli, card_cli, user):
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
    """Serve the app with waitress: the office's listener and the kiosk screen's own.

    An older schema is migrated first. While the database cannot be reached the app serves
    anyway (the kiosk shows that it is out of service) and migrates as soon as it can."""
    from .storage import SchemaTooNew

    migrator = Migrator(_office().engine)
    try:
        migrated = migrator.attempt(START_LOCK_WAIT_S, quiet=True)  # the migrator's own first try logs why not
    except SchemaTooNew as exc:
        raise click.ClickException(str(exc)) from None
    # the app itself, not the context-local proxy: waitress serves it from its own threads
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_server(
        app, listeners(_office().site, host, port, kiosk_port, no_kiosk, threads), None if migrated else migrator
    )


def database_away(exc: BaseException) -> bool:
    """An error that passes once the database is back (or another instance's migration is
    done); anything else, such as a schema newer than the code, is not waited out."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from .errors import is_database_down
    from .storage import MigrationLockTimeout

    if isinstance(exc, DBAPIError):
        return is_database_down(exc)
    return isinstance(exc, (MigrationLockTimeout, DisconnectionError, PoolTimeout, OSError))


class Migrator(threading.Thread):
    """Brings the schema to the code's, trying again every `retry_s` seconds while the
    database cannot be reached; each kind of failure is logged once."""

    def __init__(self, engine, retry_s: float = MIGRATE_RETRY_S):
        super().__init__(name="migrations", daemon=True)
        self.engine, self.retry_s = engine, retry_s
        self.done = threading.Event()
        self._seen: set[str] = set()
        self._release: Callable[[], None] | None = None

    def attempt(self, lock_wait_s: float | None = None, quiet: bool = False) -> bool:
        """True once the schema is current; False while the database is away. Other errors pass."""
        from .errors import describe
        from .storage import MIGRATION_LOCK_WAIT_S, migrate, schema_is_current

        try:
            if not schema_is_current(self.engine):
                migrate(self.engine, MIGRATION_LOCK_WAIT_S if lock_wait_s is None else lock_wait_s)
                log.info("database migrated to the newest schema")
        except Exception as exc:
            if not database_away(exc):
                raise
            kind = describe(exc)
            if not quiet and kind not in self._seen:
                self._seen.add(kind)
                log.warning(
                    "the database cannot be migrated yet (%s): serving, out of service, trying again every %g s",
                    kind,
                    self.retry_s,
                )
            return False
        self.done.set()
        return True

    def start(self) -> None:
        from .storage import while_behind

        self._release = while_behind(self.engine)  # before any request: the schema is behind until done
        super().start()

    def run(self) -> None:
        from .errors import describe
        from .storage import SchemaTooNew

        try:
            while not self.attempt():
                self.done.wait(self.retry_s)  # a timed wait: never set before a success
        except Exception as exc:  # noqa: BLE001 - the server must not run on a schema it cannot migrate
            log.error(
                "the database cannot be migrated: %s; stopping", exc if isinstance(exc, SchemaTooNew) else describe(exc)
            )
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            if self._release is not None:
                self._release()


def run_server(app: Flask, where, migrator: Migrator | None = None) -> None:
    from . import fleet, housekeeping, logs, outbox, server, turn_soon

    logs.configure()
    if migrator is not None:
        migrator.start()  # before the listeners: while it runs, a missing table means "not yet"
    servers = server.make_servers(app, where)
    click.echo(f"Serving {app.config['SITE_PROFILE'].municipality} on {server.url(servers[server.OFFICE])}")
    if server.KIOSK in servers:
        kiosk_url = server.url(servers[server.KIOSK])
        app.config["KIOSK_URL"] = kiosk_url
        click.echo(f"The kiosk screen, for this PC's own browser only: {kiosk_url}/kiosk/")
        fleet.Heartbeat(app).start()  # a kiosk of the office's fleet (an office server is none)
    housekeeping.Timer(app).start()
    sender = outbox.Worker(app)  # every instance sends: their leases keep them from sending a message twice
    sender.start()
    if app.config["SITE_PROFILE"].kiosk.turn_soon_ahead:
        turn_soon.Watch(app).start()
    try:
        server.run(servers)
    finally:
        sender.stop(timeout_s=5)  # a send cut short is sent again once its lease runs out


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or migrate the database to the newest schema (instances take turns)."""
    from .storage import MigrationLockTimeout, SchemaTooNew, migrate

    try:
        migrate(_office().engine)
    except (SchemaTooNew, MigrationLockTimeout) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Database is up to date.")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path):
    """Copy the SQLite database to PATH (readable by this user only), also while the server runs."""
    import sqlite3

    from .storage import BackupError
    from .storage import backup as back_up

    try:
        back_up(_office().engine, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except (sqlite3.Error, OSError) as exc:
        raise click.ClickException(
            f"The backup failed ({type(exc).__name__}: {exc}); {path} was not written."
        ) from None
    click.echo(f"The database is backed up to {path}.")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="replace the database (the server stopped)")
@with_appcontext
def restore(path: Path, yes: bool):
    """Replace the SQLite database with the backup PATH; the server must be stopped first."""
    from .storage import BackupError, backup_revision
    from .storage import restore as put_back

    engine = _office().engine
    try:
        revision = backup_revision(path) if engine.dialect.name == "sqlite" else None
        if revision is not None and not yes:
            raise click.ClickException(
                f"{path} is a backup at schema revision {revision}. Restoring replaces the database "
                f"{engine.url.database} (the old file is kept beside it). Stop the server first, "
                "then run this again with --yes."
            )
        aside = put_back(engine, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {path} (schema revision {revision}).")
    if aside is not None:
        click.echo(f"The database it replaced is kept as {aside}.")
    click.echo("Start the server: it migrates the database to the newest schema if needed.")


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
