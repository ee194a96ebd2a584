"""What each visit is called and what to bring, in the citizen's language.

The four visits of the fast counter have built-in, translated texts; a site profile may
override them per language (`name`, `bring` of a service).
"""
from __future__ import annotations

from flask_babel import force_locale, format_currency
from flask_babel import lazy_gettext as _l

from .site import Service

NAMES = {
    "pickup": _l("Pick up your new residence card"),
    "activation": _l("Activate the certificates on your card"),
    "pin_reset": _l("New PIN code with your PUK code"),
    "new_codes": _l("New PIN and PUK codes"),
}
BRING = {
    "pickup": (_l("Your current residence card, or the police certificate of loss or theft"),
               _l("The letter with your PIN and PUK codes")),
    "activation": (_l("Your residence card"), _l("Your PIN code, or your PUK code")),
    "pin_reset": (_l("Your residence card"), _l("Your PUK code")),
    "new_codes": (_l("Your residence card"), _l("The fee, preferably paid by card (Bancontact)")),
}


def service_name(service: Service, language: str) -> str:
    if language in service.names:
        return service.names[language]
    builtin = NAMES.get(service.id)
    if builtin is None:  # a site's own service without a name in this language
        return next(iter(service.names.values()), service.id)
    with force_locale(language):
        return str(builtin)


def service_bring(service: Service, language: str) -> list[str]:
    if language in service.bring:
        return list(service.bring[language])
    with force_locale(language):
        return [str(item) for item in BRING.get(service.id, ())]


def fee_text(service: Service, language: str) -> str:
    """'free' or the fee in euro, written the citizen's way."""
    with force_locale(language):
        if not service.fee_cents:
            return str(_l("free"))
        return format_currency(service.fee_cents / 100, "EUR")
