"""The site profile: everything that differs per municipality, read from one TOML file.

Fees, services, counters, languages, opening hours, retention and devices live here, not in
code. A wrong profile stops the app at start with a message naming the file, the key and
what is wrong.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEMO_PROFILE = Path(__file__).with_name("profiles") / "demo.toml"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_SERVICE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


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


@dataclass(frozen=True)
class SiteProfile:
    path: Path
    municipality: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    public_url: str
    daily_reset_hour: int
    retention_days: int
    services: dict[str, Service]
    counters: dict[int, Counter]
    opening_hours: OpeningHours
    reader: dict[str, Any]
    printer: dict[str, Any]
    kiosk: dict[str, Any]
    server: dict[str, Any]

    @property
    def default_language(self) -> str:
        return self.languages[0]


class _Reader:
    """Typed access to a TOML table that reports errors by dotted key."""

    def __init__(self, path: Path, data: dict, prefix: str = ""):
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, problem: str) -> SiteProfileError:
        return SiteProfileError(f"{self.path}: {self.prefix}{key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.data[key]
        # bool is an int in Python; a profile saying `port = true` is still wrong.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self.fail(key, f"must be {_kind_name(kind)}, not {type(value).__name__} {value!r}")
        return value

    def table(self, key: str, default: Any = ...) -> _Reader:
        value = self.get(key, dict, {} if default is ... else default)
        return _Reader(self.path, value, f"{self.prefix}{key}.")


def _as_tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


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
    return _parse(_Reader(path, data))


def _parse(root: _Reader) -> SiteProfile:
    site = root.table("site")
    languages = tuple(site.get("languages", list))
    if not languages or not all(isinstance(x, str) and _LANGUAGE.match(x) for x in languages):
        raise site.fail("languages", "must be a non-empty list of language codes like \"nl\"")
    if len(set(languages)) != len(languages):
        raise site.fail("languages", "lists a language twice")
    try:
        timezone = ZoneInfo(site.get("timezone", str, "Europe/Brussels"))
    except (ZoneInfoNotFoundError, ValueError):
        raise site.fail("timezone", "is not a known time zone (e.g. \"Europe/Brussels\")") from None
    reset_hour = site.get("daily_reset_hour", int, 4)
    if not 0 <= reset_hour <= 23:
        raise site.fail("daily_reset_hour", "must be an hour from 0 to 23")
    retention = site.get("retention_days", int, 30)
    if retention < 1:
        raise site.fail("retention_days", "must be at least 1")
    public_url = site.get("public_url", str, "http://127.0.0.1:8080").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise site.fail("public_url", "must start with http:// or https://")

    services = _parse_services(root, languages)
    counters = _parse_counters(root, services)
    return SiteProfile(
        path=root.path,
        municipality=site.get("municipality", str),
        languages=languages,
        timezone=timezone,
        public_url=public_url,
        daily_reset_hour=reset_hour,
        retention_days=retention,
        services=services,
        counters=counters,
        opening_hours=_parse_hours(root.table("opening_hours")),
        reader=_parse_reader(root.table("reader")),
        printer=_parse_printer(root.table("printer")),
        kiosk=_parse_kiosk(root.table("kiosk")),
        server=dict(root.table("server").data),
    )


def _parse_services(root: _Reader, languages: tuple[str, ...]) -> dict[str, Service]:
    raw = root.get("services", list)
    if not raw:
        raise root.fail("services", "must list at least one service")
    services: dict[str, Service] = {}
    letters: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise root.fail(f"services[{i}]", "must be a table ([[services]])")
        s = _Reader(root.path, item, f"services[{i}].")
        sid = s.get("id", str)
        if not _SERVICE_ID.match(sid):
            raise s.fail("id", "must be lower case letters, digits or _ (e.g. \"pickup\")")
        if sid in services:
            raise s.fail("id", f"{sid!r} is used by two services")
        letter = s.get("letter", str)
        if not re.fullmatch(r"[A-Z]", letter):
            raise s.fail("letter", "must be one capital letter A-Z")
        if letter in letters:
            raise s.fail("letter", f"{letter!r} is used by two services")
        letters.add(letter)
        fee = s.get("fee_cents", int, 0)
        if fee < 0:
            raise s.fail("fee_cents", "cannot be negative")
        minutes = float(s.get("minutes", (int, float), 5))
        if minutes <= 0:
            raise s.fail("minutes", "must be more than 0")
        names = s.get("name", dict, {})
        bring = s.get("bring", dict, {})
        for lang, text in names.items():
            if lang not in languages or not isinstance(text, str) or not text.strip():
                raise s.fail(f"name.{lang}", "must be a text in one of the site's languages")
        for lang, items in bring.items():
            if lang not in languages or not isinstance(items, list) or not all(
                isinstance(x, str) for x in items
            ):
                raise s.fail(f"bring.{lang}", "must be a list of texts in one of the site's languages")
        services[sid] = Service(
            id=sid, letter=letter, enabled=s.get("enabled", bool, True), fee_cents=fee,
            minutes=minutes, names=dict(names), bring={k: tuple(v) for k, v in bring.items()},
        )
    return services


def _parse_counters(root: _Reader, services: dict[str, Service]) -> dict[int, Counter]:
    raw = root.get("counters", list)
    if not raw:
        raise root.fail("counters", "must list at least one counter")
    counters: dict[int, Counter] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise root.fail(f"counters[{i}]", "must be a table ([[counters]])")
        c = _Reader(root.path, item, f"counters[{i}].")
        number = c.get("number", int)
        if number < 1 or number in counters:
            raise c.fail("number", f"{number} must be a positive number used once")
        served = c.get("services", list)
        unknown = [x for x in served if x not in services]
        if unknown or not served:
            raise c.fail("services", f"unknown services {unknown}" if unknown else "is empty")
        counters[number] = Counter(number, c.get("name", str, f"{number}"), tuple(served))
    return counters


def _parse_hours(hours: _Reader) -> OpeningHours:
    week: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
    for index, day in enumerate(WEEKDAYS):
        spans = []
        for text in hours.get(day, list, []):
            match = _SPAN.match(text) if isinstance(text, str) else None
            if not match:
                raise hours.fail(day, f"{text!r} is not a span like \"08:30-12:00\"")
            h1, m1, h2, m2 = map(int, match.groups())
            if not (h1 < 24 and m1 < 60 and m2 < 60 and (h2, m2) <= (24, 0)) or (h1, m1) >= (h2, m2):
                raise hours.fail(day, f"{text!r} is not a valid span")
            end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
            spans.append((dt.time(h1, m1), end))
        week[index] = tuple(spans)
    closed = set()
    for text in hours.get("closed_dates", list, []):
        try:
            closed.add(dt.date.fromisoformat(text))
        except (TypeError, ValueError):
            raise hours.fail("closed_dates", f"{text!r} is not a date like \"2026-12-25\"") from None
    return OpeningHours(week, frozenset(closed))


def _parse_reader(reader: _Reader) -> dict[str, Any]:
    kind = reader.get("kind", str, "simulated")
    if kind not in ("pcsc", "simulated"):
        raise reader.fail("kind", "must be \"pcsc\" or \"simulated\"")
    return {"kind": kind, "name_filter": reader.get("name_filter", str, "") or None}


def _parse_printer(printer: _Reader) -> dict[str, Any]:
    """Checked here (keys and the driver's packages) so a wrong printer setting stops the
    app at start, not at the first ticket."""
    from hardware.printer import PrinterConfigError, check_settings

    settings = dict(printer.data) or {"kind": "simulated"}
    try:
        check_settings(settings)
    except PrinterConfigError as exc:
        raise SiteProfileError(f"{printer.path}: {exc}") from None
    return settings


def _parse_kiosk(kiosk: _Reader) -> dict[str, Any]:
    idle = kiosk.get("idle_seconds", int, 60)
    if idle < 15:
        raise kiosk.fail("idle_seconds", "must be at least 15 seconds")
    return {
        "idle_seconds": idle,
        "ticket_without_pickup": kiosk.get("ticket_without_pickup", bool, False),
        "screen_only_tickets": kiosk.get("screen_only_tickets", bool, True),
        "footer": kiosk.get("footer", str, ""),
    }
