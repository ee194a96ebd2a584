"""Forms of the touch screens (Flask-WTF, so every post carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import ValidationError

from hardware.card import is_valid_national_number

from ..code_requests import parse_contact


class NationalNumberForm(FlaskForm):
    national_number = StringField(_l("National number"))

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
    flow_id = HiddenField()  # this screen's one ticket (see once.py)
    confirmed = SelectMultipleField(choices=[], validate_choice=False)
    contact = StringField(_l("E-mail address or phone number (optional)"))

    def validate_contact(self, field):
        try:
            parse_contact(field.data or "")
        except ValueError as exc:
            if str(exc) == "email":
                raise ValidationError(_l("This e-mail address does not look right.")) from None
            raise ValidationError(_l("This phone number does not look right.")) from None
