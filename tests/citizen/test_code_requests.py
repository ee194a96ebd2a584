"""Contact details for a code request: optional, but checked when given."""

import pytest

from kiosk.code_requests import parse_contact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", (None, None)),
        ("  ", (None, None)),
        ("alex@example.org", ("email", "alex@example.org")),
        ("+32 470 12 34 56", ("phone", "+32470123456")),
        ("0470/12.34.56", ("phone", "0470123456")),
    ],
)
def test_valid_contacts(text, expected):
    assert parse_contact(text) == expected


@pytest.mark.parametrize("text, kind", [("alex@", "email"), ("a@b", "email"), ("12", "phone"), ("call me", "phone")])
def test_invalid_contacts_say_which_kind_is_wrong(text, kind):
    with pytest.raises(ValueError, match=kind):
        parse_contact(text)
