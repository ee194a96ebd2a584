"""Forms of the touch screens (Flask-WTF, so every post carries a CSRF token).

Every field's length is checked first, before any parsing: a post need not come from the
screen's keyboard, and a check that takes time for every character it gets holds the
whole process meanwhile. The request body as a whole is bounded in kiosk/config.py.
"""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import StopValidation, ValidationError

from hardware.card import is_valid_national_number

from ..contacts import CONTACT_MAX, parse_contact

NATIONAL_NUMBER_MAX = 32  # 11 digits, with dots, dashes and spaces as people type them: "85.07.30-033.28"
FLOW_ID_MAX = 64  # secrets.token_urlsafe(12) is 16 characters
CHECKLIST_CODE_MAX = 64


class MaxLength:
    """At most `limit` characters, checked before the field's other checks, which it stops
    (WTForms runs every validator otherwise, even after one has failed)."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, form, field):
        if len(field.data or "") > self.limit:
            raise StopValidation(_l("Please type at most %(max)s characters.", max=self.limit))


class ChecklistCodes:
    """The ticked items: no more than the screen shows, each a short code."""

    def __call__(self, form, field):
        codes = field.data or []
        if len(codes) > len(field.choices or []) or any(len(code) > CHECKLIST_CODE_MAX for code in codes):
            raise StopValidation(_l("Please tick only the items shown."))


class NationalNumberForm(FlaskForm):
    national_number = StringField(_l("National number"), validators=[MaxLength(NATIONAL_NUMBER_MAX)])

    def validate_national_number(self, field):
        digits = "".join(ch for ch in field.data or "" if ch.isdigit())
        if len(digits) != 11:
            raise ValidationError(
                ngettext(
                    "A national number has 11 digits. You typed %(num)s digit.",
                    "A national number has 11 digits. You typed %(num)s digits.",
                    len(digits),
                )
            )
        if not is_valid_national_number(digits):
            raise ValidationError(_l("This is not a valid national number. Please check the digits."))
        field.data = digits


class ConfirmForm(FlaskForm):
    flow_id = HiddenField(validators=[MaxLength(FLOW_ID_MAX)])  # this screen's one ticket (see once.py)
    confirmed = SelectMultipleField(choices=[], validate_choice=False, validators=[ChecklistCodes()])
    contact = StringField(_l("E-mail address or phone number (optional)"), validators=[MaxLength(CONTACT_MAX)])

    def validate_contact(self, field):
        try:
            parse_contact(field.data or "")
        except ValueError as exc:
            if str(exc) == "too_long":
                raise ValidationError(_l("Please type at most %(max)s characters.", max=CONTACT_MAX)) from None
            if str(exc) == "email":
                raise ValidationError(_l("This e-mail address does not look right.")) from None
            raise ValidationError(_l("This phone number does not look right.")) from None
