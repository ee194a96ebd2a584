"""The `kiosk` command on an installed PC: it acts on the office's database as its service
does (the installed environment), says which database that is, and will not, as root,
make files the service could not write."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.system import KIOSK, missing


def fresh_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return env | extra


def test_the_command_uses_the_installed_environment_and_says_which_database(tmp_path):
    data = tmp_path / "office-data"
    settings = tmp_path / "environment"
    settings.write_text(f"# as deploy/install.sh writes it\nKIOSK_DATA_DIR={data}\nOTHER=ignored\n")
    run = subprocess.run(
        [*KIOSK, "init-db"],
        env=fresh_env(KIOSK_ENVIRONMENT_FILE=str(settings)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "Database is up to date."  # the answer alone on stdout
    assert f"kiosk: database sqlite:///{data}/kiosk.sqlite3 (settings from {settings})" in run.stderr
    assert (data / "kiosk.sqlite3").exists()
    # the command's own environment still wins over the installed one
    elsewhere = tmp_path / "elsewhere"
    run = subprocess.run(
        [*KIOSK, "init-db"],
        env=fresh_env(KIOSK_ENVIRONMENT_FILE=str(settings), KIOSK_DATA_DIR=str(elsewhere)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and (elsewhere / "kiosk.sqlite3").exists(), run.stderr


def test_root_is_told_to_run_as_the_services_user(tmp_path):
    if os.geteuid() != 0:
        missing("the refusal is root's: run the suite as root")
    data = tmp_path / "var-lib-snelbalie"
    data.mkdir()
    os.chown(data, 65534, 65534)  # the service's user, here nobody
    run = subprocess.run(
        [*KIOSK, "token", "create", "--role", "kiosk", "--name", "hall"],
        env=fresh_env(KIOSK_DATA_DIR=str(data), KIOSK_ENVIRONMENT_FILE=str(tmp_path / "none")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and run.stdout == ""
    assert f"{data} belongs to nobody: run this as that user (sudo -u nobody kiosk ...)" in run.stderr
    assert list(Path(data).iterdir()) == []  # not even a secret key made


def test_install_writes_the_environment_the_command_reads():
    install = (Path(__file__).resolve().parent.parent / "deploy" / "install.sh").read_text()
    assert "KIOSK_SITE=/etc/snelbalie/site.toml\\nKIOSK_DATA_DIR=/var/lib/snelbalie" in install
    unit = (Path(__file__).resolve().parent.parent / "deploy" / "systemd" / "snelbalie.service").read_text()
    assert "EnvironmentFile=-/etc/snelbalie/environment" in unit
