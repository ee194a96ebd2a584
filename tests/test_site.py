"""The site profile and the configuration layers."""
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.printer.escpos_lib import module_available
from kiosk import create_app
from kiosk.config import build_config
from kiosk.site import DEMO_PROFILE, SiteProfileError, load_site_profile
from tests.sites import site_variant

EXAMPLE = Path(__file__).parent.parent / "deploy" / "site.example.toml"


def test_demo_profile_has_the_four_visits_of_the_fast_counter():
    site = load_site_profile(DEMO_PROFILE)
    assert list(site.services) == ["pickup", "activation", "pin_reset", "new_codes"]
    assert site.services["new_codes"].fee_cents == 500
    assert site.default_language == "nl" and "ar" in site.languages


def test_example_profile_is_valid_and_keeps_office_hours():
    site = load_site_profile(EXAMPLE)
    hours = site.opening_hours
    assert hours.is_open(dt.datetime(2026, 11, 23, 9, 0))  # Monday morning
    assert not hours.is_open(dt.datetime(2026, 11, 23, 12, 30))  # lunch
    assert not hours.is_open(dt.datetime(2026, 11, 28, 10, 0))  # Saturday
    assert not hours.is_open(dt.datetime(2026, 12, 25, 9, 0))  # closed date
    assert site.reader == {"kind": "pcsc", "name_filter": None}


@pytest.mark.parametrize("replacement, expected", [
    (('municipality = "Demostad"\n', ""), "site.municipality: is missing"),
    (('retention_days = 30', 'retention_days = "thirty"'), "site.retention_days: must be an integer"),
    (('letter = "B"', 'letter = "A"'), "services[1].letter: 'A' is used by two services"),
    (('letter = "B"', 'letter = "bb"'), "services[1].letter: must be one capital letter"),
    (('services = ["pickup", "activation"]', 'services = ["pickup", "passport"]'),
     "counters[1].services: unknown services ['passport']"),
    (('monday = ["00:00-24:00"]', 'monday = ["9-17"]'), "opening_hours.monday: '9-17' is not a span"),
    (('timezone = "Europe/Brussels"', 'timezone = "Mars/Olympus"'), "site.timezone: is not a known time zone"),
    (('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = []'), "site.languages"),
    (('kind = "simulated"', 'kind = "magic"'), "reader.kind: must be"),
    (('fee_cents = 500', 'fee_cents = -5'), "services[3].fee_cents: cannot be negative"),
    (('idle_seconds = 60', 'idle_seconds = 3'), "kiosk.idle_seconds"),
])
def test_a_wrong_profile_names_file_key_and_problem(tmp_path, replacement, expected):
    path = site_variant(tmp_path, replacement)
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


PRINTER = '[printer]\nkind = "simulated"\n'
NO_PYUSB = pytest.mark.skipif(module_available("usb"), reason="pyusb is installed here")
NO_PYSERIAL = pytest.mark.skipif(module_available("serial"), reason="pyserial is installed here")


@pytest.mark.parametrize("printer, expected", [
    pytest.param('[printer]\nkind = "usb"\nvendor_id = "04b8"\nproduct_id = "0202"\n',
                 "[printer] kind 'usb' needs the package pyusb", marks=NO_PYUSB),
    pytest.param('[printer]\nkind = "serial"\ndevice = "/dev/ttyUSB0"\n',
                 "[printer] kind 'serial' needs the package pyserial", marks=NO_PYSERIAL),
    ('[printer]\nkind = "network"\nhost = "printer.example"\n',
     "[printer] host must be an IP address"),
])
def test_a_printer_that_cannot_work_stops_the_start(tmp_path, printer, expected):
    path = site_variant(tmp_path, (PRINTER, printer))
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(SiteProfileError, match="does not exist"):
        load_site_profile(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nmunicipality = ", encoding="utf-8")
    with pytest.raises(SiteProfileError, match="not valid TOML"):
        load_site_profile(broken)


def test_defaults_then_profile_then_environment_then_explicit(tmp_path):
    profile = site_variant(tmp_path, ("[kiosk]", '[server]\ndatabase_url = "sqlite:///from-profile.db"\n\n[kiosk]'))
    defaults = build_config(str(tmp_path), {}, environ={})
    assert defaults["DATABASE_URL"] == f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    assert len(defaults["SECRET_KEY"]) == 64
    assert build_config(str(tmp_path), {}, environ={})["SECRET_KEY"] == defaults["SECRET_KEY"]  # kept
    from_profile = build_config(str(tmp_path), {}, environ={"KIOSK_SITE": str(profile)})
    assert from_profile["DATABASE_URL"] == "sqlite:///from-profile.db"
    env = {"KIOSK_SITE": str(profile), "KIOSK_DATABASE_URL": "sqlite:///from-env.db", "KIOSK_SECRET_KEY": "s3"}
    from_env = build_config(str(tmp_path), {}, environ=env)
    assert (from_env["DATABASE_URL"], from_env["SECRET_KEY"]) == ("sqlite:///from-env.db", "s3")
    explicit = build_config(str(tmp_path), {"DATABASE_URL": "sqlite:///explicit.db"}, environ=env)
    assert explicit["DATABASE_URL"] == "sqlite:///explicit.db"


def test_unknown_server_setting_is_refused(tmp_path):
    profile = site_variant(tmp_path, ("[kiosk]", '[server]\ndatabse_url = "x"\n\n[kiosk]'))
    with pytest.raises(SiteProfileError, match="server.databse_url: unknown setting"):
        build_config(str(tmp_path), {"SITE": str(profile)}, environ={})


def test_the_app_refuses_to_start_on_a_wrong_profile(tmp_path):
    path = site_variant(tmp_path, ('letter = "B"', 'letter = "A"'))
    with pytest.raises(SiteProfileError, match="services\\[1\\].letter"):
        create_app({"SITE": str(path), "DATA_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "init-db"], capture_output=True, text=True,
                            env={"KIOSK_SITE": str(path), "KIOSK_DATA_DIR": str(tmp_path), "PATH": ""})
    assert result.returncode != 0
    assert f"{path}: services[1].letter" in result.stderr
