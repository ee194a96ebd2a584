"""The texts of the messages to citizens (kiosk.outbox), in the citizen's language.

A message says only what anyone who reads the citizen's mailbox or phone may see: that codes or a
card are ready, the office's opening hours, a ticket number and how many are ahead of it. Never a
name or a national number: a template's parameters are a fixed few, each of a checked form, so
no free text can carry them in.

Rendered at send time, inside the app's context, with `force_locale` of the citizen's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _

from .services import service_bring
from .site import SiteProfile

_TICKET_NUMBER = re.compile(r"[A-Z][0-9]{1,6}")


def _count(value: Any, least: int) -> bool:
    return type(value) is int and value >= least  # bool is no count


def _iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


# A parameter's name -> whether a value is of its form.
PARAMS: dict[str, Callable[[Any], bool]] = {
    "number": lambda v: isinstance(v, str) and bool(_TICKET_NUMBER.fullmatch(v)),  # a ticket, "C012"
    "ahead": lambda v: _count(v, 0),  # tickets called before it
    "reminder": lambda v: _count(v, 1),  # which reminder: 1 = the first
    "destroy_on": _iso_date,  # codes not collected by then are destroyed: "2027-02-24"
}


@dataclass(frozen=True)
class Template:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Sent later than this after it was written, it would mislead ("3 people ahead" an hour on).
    max_age: dt.timedelta | None = None


TEMPLATES: dict[str, Template] = {
    "codes_arrived": Template(optional=("destroy_on",)),
    "codes_reminder": Template(required=("reminder",), optional=("destroy_on",)),
    "pickup_reminder": Template(optional=("reminder",)),
    "turn_soon": Template(required=("number", "ahead"), max_age=dt.timedelta(minutes=30)),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str  # the e-mail's body
    short: str  # the text message: one or two sentences


def check_params(template: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as they will be stored; ValueError naming what is wrong."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise ValueError(f"unknown template {template!r} (known: {', '.join(TEMPLATES)})")
    if not isinstance(params, Mapping):
        raise ValueError("params must be a mapping")
    missing = [name for name in spec.required if name not in params]
    unknown = [name for name in params if name not in (*spec.required, *spec.optional)]
    if missing or unknown:
        raise ValueError(f"template {template!r}: missing params {missing}, unknown params {unknown}")
    for name, value in params.items():
        if not PARAMS[name](value):
            raise ValueError(f"template {template!r}: param {name!r} is not of its form")
    return dict(params)


def render(site: SiteProfile, template: str, params: Mapping[str, Any], language: str) -> Rendered:
    """The message in `language` (the site's main one if the site no longer speaks it)."""
    if language not in site.languages:
        language = site.default_language
    params = check_params(template, params)
    with force_locale(language):
        return _RENDER[template](site, language, params)


def opening_hours(site: SiteProfile) -> list[str]:
    """'Monday: 08:30–12:00, 13:00–16:00' per open weekday, day names in the current locale."""
    names = get_locale().days["stand-alone"]["wide"]
    lines = []
    for weekday, spans in sorted(site.opening_hours.week.items()):
        if spans:
            name = names[weekday]
            hours = ", ".join(f"{_clock(start)}–{_clock(end)}" for start, end in spans)
            lines.append(f"{name[:1].upper()}{name[1:]}: {hours}")
    return lines


def _clock(moment: dt.time) -> str:
    return "24:00" if moment == dt.time.max else f"{moment:%H:%M}"


def _body(*paragraphs: str | list[str], site: SiteProfile, hours: bool = True) -> str:
    parts = [p if isinstance(p, str) else "\n".join(p) for p in paragraphs if p]
    if hours and (lines := opening_hours(site)):
        parts.append("\n".join([_("Opening hours:"), *lines]))
    parts.append(_("This message was sent automatically. Please do not reply to it."))
    return "\n\n".join(parts) + "\n"


def _reminder(params: Mapping[str, Any]) -> str:
    return _("This is reminder %(reminder)d.", reminder=params["reminder"]) if "reminder" in params else ""


def _destroyed(params: Mapping[str, Any]) -> str:
    if "destroy_on" not in params:
        return ""
    date = format_date(dt.date.fromisoformat(params["destroy_on"]), "long")
    return _("Codes that are not collected by %(date)s are destroyed.", date=date)


def _codes_arrived(site: SiteProfile, language: str, params: Mapping[str, Any]) -> Rendered:
    place = site.municipality
    return Rendered(
        subject=_("Your new PIN and PUK codes are in"),
        text=_body(
            _("Your new PIN and PUK codes have arrived at the office of %(municipality)s.", municipality=place),
            _("Come to the office with your residence card to collect them."),
            _destroyed(params),
            site=site,
        ),
        short=_(
            "%(municipality)s: your new PIN and PUK codes are in. Come to the office with your residence card.",
            municipality=place,
        ),
    )


def _codes_reminder(site: SiteProfile, language: str, params: Mapping[str, Any]) -> Rendered:
    place = site.municipality
    return Rendered(
        subject=_("Reminder: your new PIN and PUK codes are waiting for you"),
        text=_body(
            _reminder(params),
            _("Your new PIN and PUK codes are waiting for you at the office of %(municipality)s.", municipality=place),
            _("Come to the office with your residence card to collect them."),
            _destroyed(params),
            site=site,
        ),
        short=_(
            "%(municipality)s, reminder %(reminder)d: your new PIN and PUK codes are waiting for you. "
            "Come to the office with your residence card.",
            municipality=place,
            reminder=params["reminder"],
        ),
    )


def _pickup_reminder(site: SiteProfile, language: str, params: Mapping[str, Any]) -> Rendered:
    place = site.municipality
    service = site.services.get("pickup")
    bring = service_bring(service, language) if service is not None else []
    return Rendered(
        subject=_("Your new residence card is ready"),
        text=_body(
            _reminder(params),
            _(
                "Your new residence card is ready to be collected at the office of %(municipality)s.",
                municipality=place,
            ),
            [_("Please bring:"), *(f"- {item}" for item in bring)] if bring else "",
            site=site,
        ),
        short=_(
            "%(municipality)s: your new residence card is ready to be collected. "
            "Bring your current card and the letter with your PIN and PUK codes.",
            municipality=place,
        ),
    )


def _turn_soon(site: SiteProfile, language: str, params: Mapping[str, Any]) -> Rendered:
    number, ahead = params["number"], params["ahead"]
    if ahead == 0:
        line = _("Ticket %(number)s: you are next at %(municipality)s.", number=number, municipality=site.municipality)
    else:
        line = ngettext(
            "Ticket %(number)s: %(num)d person is ahead of you at %(municipality)s.",
            "Ticket %(number)s: %(num)d people are ahead of you at %(municipality)s.",
            ahead,
            number=number,
            municipality=site.municipality,
        )
    return Rendered(
        subject=_("Your turn is coming soon"),
        text=_body(
            line, _("Please come to the waiting area: the screens show when it is your turn."), site=site, hours=False
        ),
        short=line,
    )


_RENDER: dict[str, Callable[[SiteProfile, str, Mapping[str, Any]], Rendered]] = {
    "codes_arrived": _codes_arrived,
    "codes_reminder": _codes_reminder,
    "pickup_reminder": _pickup_reminder,
    "turn_soon": _turn_soon,
}
