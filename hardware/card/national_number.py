"""Belgian national number (rijksregisternummer): check digits, formatting, masking.

The number is YYMMDD (birth date; month +20 or +40 for bis numbers), a 3-digit serial
and 2 check digits: 97 - (first 9 digits mod 97). For births from 2000 the check is
computed over "2" followed by the first 9 digits, and the number itself does not say
which century applies, so either check is accepted.
"""

import re

_SEPARATORS = re.compile(r"[\s.\-]")


def digits_of(number: str) -> str | None:
    """The 11 digits of a national number written with or without separators, else None."""
    digits = _SEPARATORS.sub("", number)
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def check_digits(first_nine: str, born_from_2000: bool = False) -> str:
    """The two check digits for the first 9 digits (used to build test numbers too)."""
    base = int(("2" if born_from_2000 else "") + first_nine)
    return f"{97 - base % 97:02d}"


def is_valid_national_number(number: str) -> bool:
    """True for 11 digits (separators allowed) whose check digits fit either century."""
    digits = digits_of(number)
    if digits is None:
        return False
    first_nine, check = digits[:9], digits[9:]
    return check in (check_digits(first_nine), check_digits(first_nine, born_from_2000=True))


def format_national_number(number: str) -> str:
    """The usual written form, 85.07.30-033.28; raises ValueError for a malformed number."""
    digits = digits_of(number)
    if digits is None:
        raise ValueError("a national number has 11 digits")
    d = digits
    return f"{d[0:2]}.{d[2:4]}.{d[4:6]}-{d[6:9]}.{d[9:11]}"


def mask_national_number(number: str) -> str:
    """Keep only the birth-date part for clerks' screens: 85.07.30-***.**.

    Anything that is not a well-formed number is masked completely, so a typo never
    leaks digits either.
    """
    digits = digits_of(number)
    if digits is None:
        return "**.**.**-***.**"
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-***.**"
