"""The site profile and the configuration layers."""

import dataclasses
import datetime as dt
import multiprocessing
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hardware.printer import PrinterSettings
from hardware.printer.escpos_lib import module_available
from kiosk import create_app
from kiosk.config import SETTINGS, build_config
from kiosk.site import DEMO_PROFILE, ReaderSettings, ServerSettings, SiteProfileError, load_site_profile
from tests.sites import NO_APPOINTMENT_HOURS, site_variant

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
    assert site.reader == ReaderSettings(kind="pcsc", name_filter=None)
    assert (site.printer.kind, site.printer.checked.host) == ("network", "192.0.2.50")
    assert (site.kiosk.idle_seconds, site.kiosk.screen_only_tickets) == (60, True)


def test_the_example_profile_shows_every_key_and_no_other():
    """deploy/site.example.toml documents every key of every table, some in comments."""
    from kiosk.site import (
        AppointmentSettings,
        CodeSettings,
        KioskSettings,
        MailSettings,
        RulesSettings,
        SmsSettings,
        _Counter,
        _OpeningHours,
        _Service,
        _Site,
    )

    lines = re.findall(r"^(# )?((\w+) = .*)$", EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE)
    shown = {key for _, _, key in lines}
    tables = (
        _Site,
        _Service,
        _Counter,
        _OpeningHours,
        ReaderSettings,
        KioskSettings,
        ServerSettings,
        CodeSettings,
        RulesSettings,
        MailSettings,
        SmsSettings,
        AppointmentSettings,
    )
    keys = [set(table.model_fields) for table in tables] + [{f.name for f in dataclasses.fields(PrinterSettings)}]
    for known in keys:
        assert known <= shown, sorted(known - shown)
    assert shown <= set().union(*keys), sorted(shown - set().union(*keys))
    for commented, line, _ in lines:
        if commented:
            tomllib.loads(line)  # a commented key, uncommented, is valid TOML


@pytest.mark.parametrize(
    "replacement, expected",
    [
        (('municipality = "Demostad"\n', ""), "site.municipality: is missing"),
        (
            ("[kiosk]", '[server]\ntrusted_proxy = "proxy.lan"\n\n[kiosk]'),
            "server.trusted_proxy: must be an IP address",
        ),
        (("[kiosk]", '[server]\nhosts = ["desk pc"]\n\n[kiosk]'), "server.hosts[0]: must be a host name or IP address"),
        (("retention_days = 30", 'retention_days = "thirty"'), "site.retention_days: must be an integer"),
        (('letter = "B"', 'letter = "A"'), "services[1].letter: 'A' is used by two services"),
        (('letter = "B"', 'letter = "bb"'), "services[1].letter: must be one capital letter"),
        (
            ('services = ["pickup", "activation"]', 'services = ["pickup", "passport"]'),
            "counters[1].services: unknown services ['passport']",
        ),
        (('monday = ["00:00-24:00"]', 'monday = ["9-17"]'), "opening_hours.monday: '9-17' is not a span"),
        (('timezone = "Europe/Brussels"', 'timezone = "Mars/Olympus"'), "site.timezone: is not a known time zone"),
        (('languages = ["nl", "fr", "de", "en", "ar", "uk"]', "languages = []"), "site.languages"),
        (('kind = "simulated"', 'kind = "magic"'), "reader.kind: must be"),
        (("fee_cents = 500", "fee_cents = -5"), "services[3].fee_cents: cannot be negative"),
        (("idle_seconds = 60", "idle_seconds = 3"), "kiosk.idle_seconds: must be at least 15 seconds"),
        (("idle_seconds = 60", "idle_seconds = true"), "kiosk.idle_seconds: must be an integer, not bool True"),
        (("minutes = 6", 'minutes = "6"'), "services[0].minutes: must be a number, not str '6'"),
        (("minutes = 6", "minutes = 0"), "services[0].minutes: must be more than 0"),
        (('id = "pickup"', 'id = "Pickup"'), "services[0].id: must be lower case letters"),
        (('id = "activation"', 'id = "pickup"'), "services[1].id: 'pickup' is used by two services"),
        (("number = 2", "number = 1"), "counters[1].number: 1 is used by two counters"),
        (('services = ["pickup", "activation"]', "services = []"), "counters[1].services: is empty"),
        (("daily_reset_hour = 4", "daily_reset_hour = 24"), "site.daily_reset_hour: must be an hour from 0 to 23"),
        (("retention_days = 30", "retention_days = 0"), "site.retention_days: must be at least 1"),
        (('public_url = "http://127.0.0.1:8080"', 'public_url = "127.0.0.1"'), "site.public_url: must start with http"),
        (
            ('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = ["nl", "nl"]'),
            "site.languages: lists a language twice",
        ),
        (
            ('monday = ["00:00-24:00"]', 'monday = ["12:00-08:30"]'),
            "opening_hours.monday: '12:00-08:30' is not a valid span",
        ),
        (
            ("[opening_hours]", '[opening_hours]\nclosed_dates = ["2026-13-01"]'),
            "opening_hours.closed_dates: '2026-13-01' is not a date like",
        ),
        (
            ('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = "nl"'),
            "site.languages: must be a list, not str 'nl'",
        ),
        (("minutes = 6", 'minutes = 6\nname = { nl = " " }'), "services[0].name.nl: must not be empty"),
        (
            ("minutes = 6", 'minutes = 6\nbring = { nl = ["kaart", 3] }'),
            "services[0].bring.nl[1]: must be a string, not int 3",
        ),
    ],
)
def test_a_wrong_profile_names_file_key_and_problem(tmp_path, replacement, expected):
    path = site_variant(tmp_path, replacement)
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


PRINTER = '[printer]\nkind = "simulated"\n'
NO_PYUSB = pytest.mark.skipif(module_available("usb"), reason="pyusb is installed here")
NO_PYSERIAL = pytest.mark.skipif(module_available("serial"), reason="pyserial is installed here")


@pytest.mark.parametrize(
    "printer, expected",
    [
        pytest.param(
            '[printer]\nkind = "usb"\nvendor_id = "04b8"\nproduct_id = "0202"\n',
            "[printer] kind 'usb' needs the package pyusb",
            marks=NO_PYUSB,
        ),
        pytest.param(
            '[printer]\nkind = "serial"\ndevice = "/dev/ttyUSB0"\n',
            "[printer] kind 'serial' needs the package pyserial",
            marks=NO_PYSERIAL,
        ),
        ('[printer]\nkind = "network"\nhost = "printer.example"\n', "[printer] host must be an IP address"),
    ],
)
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


def _key_when_released(barrier, data_dir: Path, keys) -> None:
    barrier.wait(timeout=30)
    keys.put(build_config(str(data_dir), {}, environ={})["SECRET_KEY"])


def test_processes_started_together_share_one_whole_secret_key(tmp_path):
    # The first start of init-db and the app at once: every process reads the one key written,
    # none stops on the file another has just made, none reads it half written.
    context = multiprocessing.get_context("fork")
    barrier, keys = context.Barrier(8), context.Queue()
    processes = [context.Process(target=_key_when_released, args=(barrier, tmp_path / "data", keys)) for _ in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * 8
    found = {keys.get(timeout=5) for _ in processes}
    assert len(found) == 1 and len(found.pop()) == 64, found
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["secret_key"]


def test_unknown_server_setting_is_refused(tmp_path):
    profile = site_variant(tmp_path, ("[kiosk]", '[server]\ndatabse_url = "x"\n\n[kiosk]'))
    with pytest.raises(SiteProfileError, match="server.databse_url: unknown key \\(did you mean database_url\\?\\)"):
        build_config(str(tmp_path), {"SITE": str(profile)}, environ={})


def test_the_server_table_has_the_settings_of_the_configuration():
    # and the listeners' own (kiosk.server), which only the profile sets
    assert set(ServerSettings.model_fields) == {key.lower() for key in SETTINGS} | {"trusted_proxy", "hosts"}


@pytest.mark.parametrize(
    "replacement, expected",
    [
        (
            ("retention_days = 30", "retention_day = 7"),
            "site.retention_day: unknown key (did you mean retention_days?)",
        ),
        (
            ('sunday = ["00:00-24:00"]', 'sunday = ["00:00-24:00"]\nmaandag = ["08:30-12:00"]'),
            "opening_hours.maandag: unknown key (did you mean monday?)",
        ),
        (("idle_seconds = 60", "idle_secondz = 60"), "kiosk.idle_secondz: unknown key (did you mean idle_seconds?)"),
        (
            ("fee_cents = 0\nminutes = 4", "fee = 0\nminutes = 4"),
            "services[1].fee: unknown key (did you mean fee_cents?)",
        ),
        (("minutes = 4", "minutes = 4\ncolour = 'blue'"), "services[1].colour: unknown key"),
        (('name = "Loket 2"', 'naam = "Loket 2"'), "counters[1].naam: unknown key (did you mean name?)"),
        (
            ('[printer]\nkind = "simulated"', '[printer]\nkind = "simulated"\npaper_width = 58'),
            "printer.paper_width: unknown key (did you mean paper_width_mm?)",
        ),
        (("[kiosk]", '[server]\nsecret = "x"\n\n[kiosk]'), "server.secret: unknown key (did you mean secret_key?)"),
        (
            ('kind = "simulated"', 'kind = "simulated"\nname = "ACS"'),
            "reader.name: unknown key (did you mean name_filter?)",
        ),
        (("[site]", "title = 'Demostad'\n\n[site]"), "title: unknown key (did you mean site?)"),
        (
            ("minutes = 6", 'minutes = 6\nname = { nll = "Afhalen" }'),
            "services[0].name.nll: unknown key (did you mean nl?)",
        ),
        (
            ("minutes = 6", 'minutes = 6\nbring = { tr = ["kart"] }'),
            "services[0].bring.tr: unknown key (not one of the site's languages: nl, fr, de, en, ar, uk)",
        ),
        (
            ('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = ["nl", "it"]'),
            'site.languages: no translation for "it" (have: ar, de, en, fr, nl, uk)',
        ),
    ],
)
def test_an_unknown_key_or_language_stops_the_start(tmp_path, replacement, expected):
    path = site_variant(tmp_path, replacement)
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_every_problem_is_named_on_its_own_line(tmp_path):
    path = site_variant(
        tmp_path,
        ("retention_days = 30", "retention_day = 7"),
        ("daily_reset_hour = 4", "daily_reset_hour = '4'"),
        ("idle_seconds = 60", "idle_secondz = 60"),
    )
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert str(caught.value).splitlines() == [
        f"{path}: site.daily_reset_hour: must be an integer, not str '4'",
        f"{path}: site.retention_day: unknown key (did you mean retention_days?)",
        f"{path}: kiosk.idle_secondz: unknown key (did you mean idle_seconds?)",
    ]


def test_english_needs_no_catalog_and_every_catalog_counts(tmp_path, monkeypatch):
    from kiosk import site as site_module

    (tmp_path / "translations" / "it" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "translations" / "it" / "LC_MESSAGES" / "messages.po").write_text("", encoding="utf-8")
    monkeypatch.setattr(site_module, "TRANSLATIONS", tmp_path / "translations")
    path = site_variant(
        tmp_path, ('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = ["it", "en"]'), NO_APPOINTMENT_HOURS
    )
    assert load_site_profile(path).languages == ("it", "en")


def test_the_app_refuses_to_start_on_a_wrong_profile(tmp_path):
    path = site_variant(tmp_path, ('letter = "B"', 'letter = "A"'))
    with pytest.raises(SiteProfileError, match="services\\[1\\].letter"):
        create_app({"SITE": str(path), "DATA_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "init-db"],
        capture_output=True,
        text=True,
        env={"KIOSK_SITE": str(path), "KIOSK_DATA_DIR": str(tmp_path), "PATH": ""},
    )
    assert result.returncode != 0
    assert f"{path}: services[1].letter" in result.stderr


# --- the card's trust anchors and the rules ----------------------------------------------

READER = '[reader]\nkind = "simulated"'


def test_trust_anchors_are_read_at_start_relative_to_the_profile(tmp_path):
    from hardware.card.fake_register import fake_register

    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "belgium.pem").write_bytes(fake_register().trust_anchors_pem())
    site = load_site_profile(site_variant(tmp_path, (READER, READER + '\ntrust_anchors = ["roots/belgium.pem"]')))
    assert site.reader.trust_anchors == [str(tmp_path / "roots" / "belgium.pem")]
    assert load_site_profile(DEMO_PROFILE).reader.trust_anchors == []  # none: cards are "not checked"


@pytest.mark.parametrize(
    "anchors, expected",
    [
        ('["missing.pem"]', "reader.trust_anchors[0]: cannot read"),
        ('["profile.toml"]', "reader.trust_anchors[0]: "),
        ('"one.pem"', "reader.trust_anchors: must be a list"),
    ],
)
def test_a_trust_anchor_that_cannot_be_used_stops_the_start(tmp_path, anchors, expected):
    (tmp_path / "profile.toml").write_text("not a certificate")
    path = site_variant(tmp_path, (READER, f"{READER}\ntrust_anchors = {anchors}"))
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert expected in str(caught.value)
    if "profile.toml" in anchors:
        assert "holds no PEM certificate" in str(caught.value)


def test_the_rules_default_to_the_federal_dates_and_take_the_site_s():
    site = load_site_profile(DEMO_PROFILE)
    assert (site.rules.certificates_stopped_on, site.rules.certificates_issued_from) == (
        dt.date(2023, 5, 15),
        dt.date(2017, 7, 1),
    )
    assert (site.rules.pin_reset_without_puk_from, site.rules.postcodes, site.rules.reactivation_days) == (None, [], 7)


def test_rules_of_the_site(tmp_path):
    rules = '[rules]\npin_reset_without_puk_from = 2024-03-01\ncertificates_issued_from = "2017-07-01"\npostcodes = ["9000"]\n\n'
    site = load_site_profile(site_variant(tmp_path, ("[printer]", rules + "[printer]")))
    assert site.rules.pin_reset_without_puk_from == dt.date(2024, 3, 1) and site.rules.postcodes == ["9000"]


@pytest.mark.parametrize(
    "rules, expected",
    [
        ('postcodes = ["900"]', 'rules.postcodes[0]: must be a Belgian postcode like "9000"'),
        ("pin_reset_without_puk_from = 2024-03-01T10:00:00", "rules.pin_reset_without_puk_from: "),
        ('certificates_stopped_on = "15/05/2023"', 'is not a date like "2017-07-01"'),
        ("reactivation_days = 0", "rules.reactivation_days: must be from 1 to 31"),
        ('reactivation_service = "reactivate"', "rules.reactivation_service: is not one of the site's services"),
        ("reactivation_dayz = 7", "rules.reactivation_dayz: unknown key (did you mean reactivation_days?)"),
    ],
)
def test_wrong_rules_stop_the_start(tmp_path, rules, expected):
    path = site_variant(tmp_path, ("[printer]", f"[rules]\n{rules}\n\n[printer]"))
    with pytest.raises(SiteProfileError) as caught:
        load_site_profile(path)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("replacement", "named"),
    [
        (("idle_seconds = 60", 'idle_seconds = 60\ninformation_service = "nope"'), "information_service"),
        (('hours = { nl = "maandag', 'hours = { xx = "never", nl = "maandag'), "hours"),
        (('url = "https://demostad.example/afspraak"', 'url = "demostad.example"'), "url"),
    ],
)
def test_a_wrong_appointment_or_information_setting_stops_the_app_with_its_name(tmp_path, replacement, named):
    with pytest.raises(SiteProfileError, match=named):
        load_site_profile(site_variant(tmp_path, replacement))
