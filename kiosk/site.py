"""The site profile: everything that differs per municipality, read from one TOML file.

Fees, services, counters, languages, opening hours, retention and devices live here, not in
code. A wrong profile stops the app at start with a message naming the file, the key and
what is wrong; a key the profile does not know is wrong too (a typo would otherwise leave a
default in force without anyone noticing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

if TYPE_CHECKING:
    from hardware.printer import PrinterSettings

DEMO_PROFILE = Path(__file__).with_name("profiles") / "demo.toml"
TRANSLATIONS = Path(__file__).with_name("translations")
SOURCE_LANGUAGE = "en"  # the msgids are English: it needs no catalog

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SERVICE_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
_LETTER = re.compile(r"[A-Z]")
_SPAN = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SMS_PLACEHOLDER = re.compile(r"\{(to|text)\}")


class SiteProfileError(ValueError):
    """The site profile cannot be used; the message names file, key and problem."""


@dataclass(frozen=True)
class Service:
    id: str
    letter: str
    enabled: bool
    fee_cents: int
    minutes: float  # expected minutes at the counter before there is history
    names: dict[str, str] = field(default_factory=dict)  # per language; empty = built-in text
    bring: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Counter:
    number: int
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class OpeningHours:
    week: dict[int, tuple[tuple[dt.time, dt.time], ...]]  # weekday (0 = Monday) -> spans
    closed_dates: frozenset[dt.date]

    def is_open(self, moment: dt.datetime) -> bool:
        """`moment` is local time in the site's time zone."""
        if moment.date() in self.closed_dates:
            return False
        now = moment.time()
        return any(start <= now < end for start, end in self.week.get(moment.weekday(), ()))


# --- checks that report in the profile's own words -------------------------------------


def _problem(text: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A problem for the error message; `at` continues the key's path below where it is raised."""
    return PydanticCustomError("site_profile", "{problem}", {"problem": text, "at": at})


def _check(ok: Callable[[Any], object], problem: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not ok(value):
            raise _problem(problem)
        return value

    return AfterValidator(check)


def _unknown_key(key: str, known: Iterable[str], hint: str = "") -> str:
    """'unknown key (did you mean <the key probably meant>?)'"""
    known = list(known)
    close = [k for k in known if k.startswith(key)] or difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else hint
    return f"unknown key ({hint})" if hint else "unknown key"


def _only_known(table: Mapping[str, Any], known: Iterable[str], hint: str = "", at: tuple[str | int, ...] = ()) -> None:
    """For tables whose keys are data (languages, the printer's settings)."""
    known = list(known)
    for key in table:
        if key not in known:
            raise _problem(_unknown_key(key, known, hint), at=(*at, key))


class _Table(BaseModel):
    """A TOML table: strict types (bool is no int, "5" no number) and only known keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _spans(value: Any) -> Any:
    """["08:30-12:00", ...] -> [(time, time), ...]; 24:00 is the end of the day."""
    if not isinstance(value, list):
        return value  # the list type reports it
    spans = []
    for text in value:
        match = _SPAN.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise _problem(f'{text!r} is not a span like "08:30-12:00"')
        h1, m1, h2, m2 = map(int, match.groups())
        if not (h1 < 24 and m1 < 60 and m2 < 60 and (h2, m2) <= (24, 0)) or (h1, m1) >= (h2, m2):
            raise _problem(f"{text!r} is not a valid span")
        end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
        spans.append((dt.time(h1, m1), end))
    return spans


def _dates(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    dates = []
    for item in value:
        try:
            # a TOML date (unquoted) is as good as the ISO text; a date with a time is not
            dates.append(item if type(item) is dt.date else dt.date.fromisoformat(item))
        except (TypeError, ValueError):
            raise _problem(f'{item!r} is not a date like "2026-12-25"') from None
    return dates


def _ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host_name(text: str) -> bool:
    return _ip_address(text.strip("[]")) or all(_HOST_LABEL.fullmatch(label) for label in text.split("."))


_Spans = Annotated[list[tuple[dt.time, dt.time]], BeforeValidator(_spans)]
_NonEmptyText = Annotated[str, _check(str.strip, "must not be empty")]


# --- the tables -----------------------------------------------------------------------


class _Site(_Table):
    municipality: str
    languages: list[str]
    timezone: str = "Europe/Brussels"
    public_url: str = "http://127.0.0.1:8080"
    daily_reset_hour: Annotated[int, _check(lambda h: 0 <= h <= 23, "must be an hour from 0 to 23")] = 4
    retention_days: Annotated[int, _check(lambda d: d >= 1, "must be at least 1")] = 30
    # a new card waiting longer is listed for a reminder letter
    pickup_reminder_days: Annotated[int, _check(lambda d: d >= 1, "must be at least 1")] = 30
    # someone waiting this long raises the alarm on the supervisors' live view
    wait_alarm_minutes: Annotated[int, _check(lambda m: m >= 1, "must be at least 1")] = 30

    @field_validator("languages")
    @classmethod
    def _translated(cls, languages: list[str]) -> list[str]:
        if not languages or not all(_LANGUAGE.fullmatch(x) for x in languages):
            raise _problem('must be a non-empty list of language codes like "nl"')
        if len(set(languages)) != len(languages):
            raise _problem("lists a language twice")
        have = translated_languages()
        for language in languages:
            if language not in have:
                raise _problem(f'no translation for "{language}" (have: {", ".join(sorted(have))})')
        return languages

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise _problem('is not a known time zone (e.g. "Europe/Brussels")') from None
        return name

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise _problem("must start with http:// or https://")
        return url.rstrip("/")


class _Service(_Table):
    id: Annotated[str, _check(_SERVICE_ID.fullmatch, 'must be lower case letters, digits or _ (e.g. "pickup")')]
    letter: Annotated[str, _check(_LETTER.fullmatch, "must be one capital letter A-Z")]
    enabled: bool = True
    fee_cents: Annotated[int, _check(lambda c: c >= 0, "cannot be negative")] = 0
    minutes: Annotated[float, _check(lambda m: m > 0, "must be more than 0")] = 5.0
    name: dict[str, _NonEmptyText] = {}  # language -> text; the keys are checked by the profile
    bring: dict[str, list[str]] = {}


class _Counter(_Table):
    number: Annotated[int, _check(lambda n: n >= 1, "must be a positive number")]
    name: str | None = None  # default: the number
    services: Annotated[list[str], _check(bool, "is empty")]


class _OpeningHours(_Table):
    monday: _Spans = []
    tuesday: _Spans = []
    wednesday: _Spans = []
    thursday: _Spans = []
    friday: _Spans = []
    saturday: _Spans = []
    sunday: _Spans = []
    closed_dates: Annotated[list[dt.date], BeforeValidator(_dates)] = []


class ReaderSettings(_Table):
    """[reader]: the residence-card reader."""

    kind: Literal["pcsc", "simulated"] = "simulated"
    name_filter: str | None = None  # part of the reader's name; None: the first reader
    # PEM files of the Belgian root certificates (deploy/README.md says where to get them); a
    # card's data is genuine when the national register's certificate comes from one of them.
    # Relative paths are from the profile's folder. None listed: cards are "not checked".
    trust_anchors: list[str] = []

    @field_validator("name_filter")
    @classmethod
    def _empty_is_any(cls, name_filter: str | None) -> str | None:
        return name_filter or None

    @field_validator("trust_anchors")
    @classmethod
    def _root_certificates(cls, paths: list[str], info: ValidationInfo) -> list[str]:
        """Each file read now, so a wrong path stops the app at start, not at the first card."""
        from hardware.card.authenticity import TrustAnchorError, load_trust_anchors

        folder = Path((info.context or {}).get("profile_folder", "."))
        resolved = [str(folder / path) for path in paths]
        for i, path in enumerate(resolved):
            try:
                load_trust_anchors([path])
            except TrustAnchorError as exc:
                raise _problem(str(exc), at=(i,)) from None
        return resolved


class KioskSettings(_Table):
    """[kiosk]: how the citizen's screen behaves."""

    # this kiosk on the facility dashboard; KIOSK_NAME overrides it, the host name is the default
    name: Annotated[str, _check(_host_name, "must be letters, digits and hyphens (like a host name)")] | None = None
    idle_seconds: Annotated[int, _check(lambda s: s >= 15, "must be at least 15 seconds")] = 60
    ticket_without_pickup: bool = False  # a pickup ticket even when the register has no card
    screen_only_tickets: bool = True  # printer down: show the ticket instead of going out of service
    footer: str = ""
    # a message when this many people are still ahead, to whoever left a contact; 0: never
    turn_soon_ahead: Annotated[int, _check(lambda n: 0 <= n <= 20, "must be from 0 (off) to 20")] = 0
    # a service of the site whose ticket is offered wherever the kiosk gives no other
    information_service: str | None = None


class AppointmentSettings(_Table):
    """How to make an appointment, for those the kiosk sends there (a new card, a card
    that can no longer be unblocked): the office's own line and page."""

    phone: _NonEmptyText | None = None
    url: (
        Annotated[str, _check(lambda u: u.startswith(("http://", "https://")), "must start with http:// or https://")]
        | None
    ) = None
    hours: dict[str, _NonEmptyText] = {}  # language -> when the line answers, as citizens read it

    def hours_in(self, language: str, default: str) -> str | None:
        return self.hours.get(language) or self.hours.get(default)


class ServerSettings(_Table):
    """[server]: the first three also from KIOSK_* environment variables (see kiosk.config)."""

    database_url: str | None = None
    secret_key: str | None = None
    data_dir: str | None = None
    # the reverse proxy in front of the office's listener, if any: its X-Forwarded-* are believed
    trusted_proxy: Annotated[str, _check(_ip_address, "must be an IP address")] | None = None
    # names and addresses desks and boards use besides public_url's host (loopback always works)
    hosts: list[Annotated[str, _check(_host_name, "must be a host name or IP address")]] = []


class CodeSettings(_Table):
    """[codes]: new PIN and PUK codes after they arrive; municipalities set their own."""

    reminders: Annotated[int, _check(lambda n: 0 <= n <= 10, "must be from 0 to 10")] = 2
    reminder_days: Annotated[int, _check(lambda d: d >= 1, "must be at least 1")] = 14  # after the last message
    destroy_after_months: Annotated[int, _check(lambda m: 1 <= m <= 24, "must be from 1 to 24")] = 3


def _date(value: Any) -> Any:
    """A TOML date (unquoted) or the ISO text; a date with a time is not one."""
    if value is None or type(value) is dt.date:
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _problem(f'{value!r} is not a date like "2017-07-01"') from None


_Date = Annotated[dt.date, BeforeValidator(_date)]
_POSTCODE = re.compile(r"[1-9][0-9]{3}")


class RulesSettings(_Table):
    """[rules]: the dates and places of the rules the kiosk applies before anyone queues
    (kiosk.citizen.eligibility). The defaults are the federal ones; a municipality may set
    its own, and the law may move them."""

    # since this day no new certificates can be put on a card issued before the next date:
    # activating certificates on such a card means a new card, by appointment
    certificates_stopped_on: _Date = dt.date(2023, 5, 15)
    certificates_issued_from: _Date = dt.date(2017, 7, 1)
    # cards issued from this day have their blocked PIN reset at the counter without the
    # PUK: nobody with such a card needs new PIN and PUK codes. None: not in this office
    pin_reset_without_puk_from: _Date | None = None
    # the municipality's own postcodes: codes asked for with an address elsewhere go to the
    # municipality of inscription, and the citizen is told so. None listed: no warning
    postcodes: list[Annotated[str, _check(_POSTCODE.fullmatch, 'must be a Belgian postcode like "9000"')]] = []
    # a card blocked with DOC STOP and found again within these days is reactivated, not replaced
    reactivation_days: Annotated[int, _check(lambda d: 1 <= d <= 31, "must be from 1 to 31")] = 7
    reactivation_service: str = "activation"  # the queue of such a visit: one of the services


def _mail_address(text: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _problem('must be an e-mail address like "burgerzaken@example.be"') from None


class MailSettings(_Table):
    """[mail]: e-mail to citizens over SMTP (kiosk.outbox). KIOSK_MAIL_HOST and KIOSK_MAIL_PORT
    override host and port; the password, if the server wants one, is KIOSK_MAIL_PASSWORD."""

    host: Annotated[str, _check(_host_name, "must be a host name or IP address")]
    port: Annotated[int, _check(lambda p: 1 <= p <= 65535, "must be a port number from 1 to 65535")] = 587
    sender: Annotated[str, AfterValidator(_mail_address)]  # the From address
    starttls: bool = True  # off only for a relay on the same host or network
    username: str | None = None  # None: the server takes mail without signing in

    @field_validator("username")
    @classmethod
    def _empty_is_none(cls, username: str | None) -> str | None:
        return username or None


class SmsSettings(_Table):
    """[sms]: text messages to citizens, POSTed as JSON to the office's SMS gateway (kiosk.outbox)."""

    url: Annotated[str, _check(lambda u: u.startswith(("http://", "https://")), "must start with http:// or https://")]
    # the environment variable that holds the Authorization header's value; None: no such header
    auth_header: (
        Annotated[
            str, _check(_ENV_NAME.fullmatch, 'must be the name of an environment variable, like "KIOSK_SMS_AUTH"')
        ]
        | None
    ) = None
    body: str = '{"to": "{to}", "text": "{text}"}'  # {to} and {text} are filled in escaped for JSON

    @field_validator("body")
    @classmethod
    def _json_with_both(cls, body: str) -> str:
        import json

        if "{to}" not in body or "{text}" not in body:
            raise _problem("must hold both {to} and {text}")
        try:
            json.loads(_fill(body, "+32470000000", 'a "text"\nover two lines'))
        except ValueError:
            raise _problem(
                'is not JSON once {to} and {text} are filled in (write them inside quotes: "{to}")'
            ) from None
        return body

    def filled(self, to: str, text: str) -> str:
        """The request's body for one message."""
        return _fill(self.body, to, text)


def _fill(body: str, to: str, text: str) -> str:
    """Each placeholder replaced once, in one pass: a text that holds "{to}" stays as it is."""
    import json

    values = {"to": to, "text": text}
    return _SMS_PLACEHOLDER.sub(lambda m: json.dumps(values[m[1]])[1:-1], body)


@dataclass(frozen=True)
class PrinterProfile:
    """[printer]: the ticket printer, checked by hardware.printer at start."""

    table: Mapping[str, Any]  # as written, for TicketPrinter (which fills in its own defaults)
    checked: PrinterSettings  # the same with defaults filled in

    @property
    def kind(self) -> str:
        return self.checked.kind

    def settings(self) -> dict[str, Any]:
        """A copy of the table to give TicketPrinter."""
        return dict(self.table)


class _Profile(_Table):
    site: _Site
    services: Annotated[list[_Service], _check(bool, "must list at least one service")]
    counters: Annotated[list[_Counter], _check(bool, "must list at least one counter")]
    opening_hours: _OpeningHours = _OpeningHours()
    reader: ReaderSettings = ReaderSettings()
    printer: dict[str, Any] = {}  # values are checked by hardware.printer
    kiosk: KioskSettings = KioskSettings()
    appointments: AppointmentSettings = AppointmentSettings()
    server: ServerSettings = ServerSettings()
    mail: MailSettings | None = None  # None: no e-mail to citizens
    sms: SmsSettings | None = None  # None: no text messages to citizens
    codes: CodeSettings = CodeSettings()
    rules: RulesSettings = RulesSettings()

    @field_validator("printer")
    @classmethod
    def _known_printer_keys(cls, printer: dict[str, Any]) -> dict[str, Any]:
        from hardware.printer import PrinterSettings

        _only_known(printer, (f.name for f in dataclasses.fields(PrinterSettings)))
        return printer

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        languages = self.site.languages
        hint = f"not one of the site's languages: {', '.join(languages)}"
        ids: set[str] = set()
        letters: set[str] = set()
        for i, service in enumerate(self.services):
            if service.id in ids:
                raise _problem(f"{service.id!r} is used by two services", at=("services", i, "id"))
            if service.letter in letters:
                raise _problem(f"{service.letter!r} is used by two services", at=("services", i, "letter"))
            ids.add(service.id)
            letters.add(service.letter)
            _only_known(service.name, languages, hint, at=("services", i, "name"))
            _only_known(service.bring, languages, hint, at=("services", i, "bring"))
        _only_known(self.appointments.hours, languages, hint, at=("appointments", "hours"))
        numbers: set[int] = set()
        for i, counter in enumerate(self.counters):
            if counter.number in numbers:
                raise _problem(f"{counter.number} is used by two counters", at=("counters", i, "number"))
            numbers.add(counter.number)
            unknown = [x for x in counter.services if x not in ids]
            if unknown:
                raise _problem(f"unknown services {unknown}", at=("counters", i, "services"))
        return self

    @model_validator(mode="after")
    def _rules_name_services(self) -> Self:
        if self.rules.reactivation_service not in {service.id for service in self.services}:
            raise _problem("is not one of the site's services", at=("rules", "reactivation_service"))
        information = self.kiosk.information_service
        if information is not None and information not in {service.id for service in self.services}:
            raise _problem("is not one of the site's services", at=("kiosk", "information_service"))
        return self


@dataclass(frozen=True)
class SiteProfile:
    path: Path
    municipality: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    public_url: str
    daily_reset_hour: int
    retention_days: int
    pickup_reminder_days: int
    wait_alarm_minutes: int
    services: dict[str, Service]
    counters: dict[int, Counter]
    opening_hours: OpeningHours
    reader: ReaderSettings
    printer: PrinterProfile
    kiosk: KioskSettings
    server: ServerSettings
    mail: MailSettings | None
    sms: SmsSettings | None
    codes: CodeSettings
    rules: RulesSettings = RulesSettings()
    appointments: AppointmentSettings = AppointmentSettings()

    @property
    def default_language(self) -> str:
        return self.languages[0]


def translated_languages() -> frozenset[str]:
    """The languages the screens can speak: the source language and each with a catalog."""
    catalogs = TRANSLATIONS.glob("*/LC_MESSAGES/messages.[mp]o")
    return frozenset({SOURCE_LANGUAGE, *(p.parent.parent.name for p in catalogs)})


def load_site_profile(path: str | Path) -> SiteProfile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteProfileError(f"{path}: the site profile file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteProfileError(f"{path}: cannot read the site profile: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteProfileError(f"{path}: not valid TOML: {exc}") from None
    try:
        profile = _Profile.model_validate(data, context={"profile_folder": path.parent})
    except ValidationError as exc:
        raise SiteProfileError("\n".join(f"{path}: {_describe(e)}" for e in exc.errors())) from None
    return _site_profile(path, profile, _printer(path, profile.printer))


def _printer(path: Path, table: dict[str, Any]) -> PrinterProfile:
    """Checked here (values and the driver's packages) so a wrong printer setting stops the
    app at start, not at the first ticket."""
    from hardware.printer import PrinterConfigError, check_settings

    table = table or {"kind": "simulated"}
    try:
        return PrinterProfile(table, check_settings(table))
    except PrinterConfigError as exc:
        raise SiteProfileError(f"{path}: {exc}") from None


def _site_profile(path: Path, p: _Profile, printer: PrinterProfile) -> SiteProfile:
    hours = p.opening_hours
    return SiteProfile(
        path=path,
        municipality=p.site.municipality,
        languages=tuple(p.site.languages),
        timezone=ZoneInfo(p.site.timezone),
        public_url=p.site.public_url,
        daily_reset_hour=p.site.daily_reset_hour,
        retention_days=p.site.retention_days,
        pickup_reminder_days=p.site.pickup_reminder_days,
        wait_alarm_minutes=p.site.wait_alarm_minutes,
        services={
            s.id: Service(
                id=s.id,
                letter=s.letter,
                enabled=s.enabled,
                fee_cents=s.fee_cents,
                minutes=s.minutes,
                names=dict(s.name),
                bring={lang: tuple(items) for lang, items in s.bring.items()},
            )
            for s in p.services
        },
        counters={
            c.number: Counter(c.number, f"{c.number}" if c.name is None else c.name, tuple(c.services))
            for c in p.counters
        },
        opening_hours=OpeningHours(
            {i: tuple(getattr(hours, day)) for i, day in enumerate(WEEKDAYS)},
            frozenset(hours.closed_dates),
        ),
        reader=p.reader,
        printer=printer,
        kiosk=p.kiosk,
        server=p.server,
        mail=p.mail,
        sms=p.sms,
        codes=p.codes,
        rules=p.rules,
        appointments=p.appointments,
    )


# --- pydantic's errors in the profile's words ------------------------------------------

_KINDS = {
    "int_type": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "float_type": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "date_type": "a date",
    "time_type": "a time",
}


def _keys_at(loc: tuple[str | int, ...]) -> list[str]:
    """The keys of the table at `loc`, e.g. ("services", 1) -> those of a service."""
    table: Any = _Profile
    for part in loc:
        if isinstance(part, str):
            table = table.model_fields[part].annotation
        if get_origin(table) is list:  # [[services]]: the table of each item
            table = get_args(table)[0]
        if type(None) in get_args(table):  # a table that may be left out, such as [mail]
            table = next(arg for arg in get_args(table) if arg is not type(None))
    return list(table.model_fields)


def _describe(error: ErrorDetails) -> str:
    """'services[1].fee_cents: must be an integer, not str 'x''"""
    ctx = error.get("ctx") or {}
    loc = (*error["loc"], *ctx.get("at", ()))
    dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    kind, value = error["type"], error["input"]
    if kind == "site_profile":
        problem = ctx["problem"]
    elif kind == "missing":
        problem = "is missing"
    elif kind in _KINDS:
        problem = f"must be {_KINDS[kind]}, not {type(value).__name__} {value!r}"
    elif kind == "literal_error":
        problem = f"must be {ctx['expected']}, not {value!r}"
    elif kind == "extra_forbidden":
        problem = _unknown_key(str(loc[-1]), _keys_at(loc[:-1]))
    else:
        problem = error["msg"]
    return f"{dotted}: {problem}" if dotted else problem
