"""`kiosk user`: staff accounts from the command line."""

from __future__ import annotations

import getpass
import sys

import click
from flask.cli import with_appcontext

from .users import ROLES, AccountError, create_user, unlock


@click.group()
def user():
    """Staff accounts: clerks, supervisors and facility staff."""


@user.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--username", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of standard input (for scripts)"
)
@with_appcontext
def user_create(role: str, username: str, password_stdin: bool):
    """Create an account; asks for the password twice unless --password-stdin."""
    from ..extensions import office

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        created = create_user(office.engine, username.strip().lower(), role, password, office.clock())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {created.role} {created.username}.")


def _operator() -> str:
    """Who runs the command, for the log: the login name on this PC."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"


@user.command("unlock")
@click.option("--username", required=True)
@with_appcontext
def user_unlock(username: str):
    """Let the account sign in again from everywhere: clear its failed sign-ins and delays."""
    from ..extensions import office

    username = username.strip().lower()
    try:
        cleared = unlock(office.engine, username, by=f"{_operator()} (command line)")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Cleared the sign-in delays of {username} ({cleared} address(es)).")
