"""What each visit is called and what to bring, in a given language: the citizen's at
the kiosk, the clerk's at the desk.

The four visits of the fast counter have built-in, translated texts; a site profile may
override them per language (`name`, `bring` of a service).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import force_locale, format_currency, gettext
from flask_babel import lazy_gettext as _l

from .site import Service

NAMES = {
    "pickup": _l("Pick up your new residence card"),
    "activation": _l("Activate the certificates on your card"),
    "pin_reset": _l("New PIN code with your PUK code"),
    "new_codes": _l("New PIN and PUK codes"),
}
# A few plain words under each name: what the visit is for, without the jargon.
MEANINGS = {
    "pickup": _l("Your new card is ready: you received a letter with its codes."),
    "activation": _l("To log in to online services and sign documents with your card."),
    "pin_reset": _l("You forgot your PIN code or it is blocked, and you have your PUK code."),
    "new_codes": _l("You no longer have the letter with your PIN and PUK codes."),
}
BRING = {
    "pickup": (
        _l("Your current residence card, or the police certificate of loss or theft"),
        _l("The letter with your PIN and PUK codes"),
    ),
    "activation": (_l("Your residence card"), _l("Your PIN code, or your PUK code")),
    "pin_reset": (_l("Your residence card"), _l("Your PUK code")),
    "new_codes": (_l("Your residence card"), _l("The fee, preferably paid by card (Bancontact)")),
}
# The checklist items of the rules (kiosk.citizen.eligibility), by code; "fee" names the
# service's own fee, and "site_<n>" is the n-th line of the site's `bring` list.
CHECKLIST = {
    "current_card": _l("Your current residence card"),
    "police_certificate": _l("The police certificate of loss or theft"),
    "code_letter": _l("The letter with your PIN and PUK codes"),
    "card": _l("Your residence card"),
    "pin_or_puk": _l("Your PIN code, or your PUK code"),
    "puk": _l("Your PUK code"),
}
SITE_ITEM = re.compile(r"site_(\d+)")


def service_name(service: Service, language: str) -> str:
    if language in service.names:
        return service.names[language]
    builtin = NAMES.get(service.id)
    if builtin is None:  # a site's own service without a name in this language
        return next(iter(service.names.values()), service.id)
    with force_locale(language):
        return str(builtin)


def service_meaning(service: Service, language: str) -> str | None:
    """The plain words under a built-in visit's name; none for a site's own or renamed one."""
    meaning = MEANINGS.get(service.id)
    if meaning is None or language in service.names:
        return None
    with force_locale(language):
        return str(meaning)


def service_bring(service: Service, language: str) -> list[str]:
    if language in service.bring:
        return list(service.bring[language])
    with force_locale(language):
        return [str(item) for item in BRING.get(service.id, ())]


def site_items(service: Service, language: str) -> list[str]:
    """The codes of the site's own `bring` lines in this language."""
    return [f"site_{n}" for n in range(len(service.bring.get(language, ())))]


def checklist_text(service: Service, code: str, language: str, fallbacks: Iterable[str] = ()) -> str:
    """A checklist item in `language`. A site line that language lacks comes from the first
    of `fallbacks` that has it. Any other value is shown as it is: check-ins stored before
    they held codes hold the citizen's texts."""
    if code == "fee":
        with force_locale(language):
            return gettext("The fee: %(fee)s (Bancontact preferred)", fee=fee_text(service, language))
    if code in CHECKLIST:
        with force_locale(language):
            return str(CHECKLIST[code])
    if site := SITE_ITEM.fullmatch(code):
        for lang in (language, *fallbacks):
            lines = service.bring.get(lang, ())
            if int(site[1]) < len(lines):
                return lines[int(site[1])]
    return code


def fee_text(service: Service, language: str) -> str:
    """'free' or the fee in euro, written the citizen's way."""
    with force_locale(language):
        if not service.fee_cents:
            return str(_l("free"))
        return format_currency(service.fee_cents / 100, "EUR")
