import pytest

from hardware.card.national_number import (
    check_digits,
    format_national_number,
    is_valid_national_number,
    mask_national_number,
)

# 850730033 mod 97 = 69, 97 - 69 = 28
VALID_1985 = "85073003328"
# born 2001: 2010101001 mod 97 = 71 -> 26 (without the 2: 10101001 mod 97 = 3 -> 94)
VALID_2001 = "01010100126"


@pytest.mark.parametrize(
    "number",
    [VALID_1985, "85.07.30-033.28", "850730 033 28", "85.07.30-033 28", VALID_2001, "01.01.01-001.26"],
)
def test_valid_numbers_with_or_without_separators(number):
    assert is_valid_national_number(number)


def test_the_2000_rule_is_what_makes_a_recent_birth_valid():
    assert check_digits("010101001") == "94"
    assert check_digits("010101001", born_from_2000=True) == "26"
    assert is_valid_national_number("01010100194")  # read as born in 1901


@pytest.mark.parametrize(
    "number",
    [
        "85073003329",  # check digits off by one
        "85073003428",  # serial changed
        "8507300332",  # 10 digits
        "850730033280",  # 12 digits
        "85O73003328",  # a letter O
        "",
        "85/07/30-033.28",  # not a separator we accept
        "８５０７３００３３２８",  # full-width digits
    ],
)
def test_invalid_numbers(number):
    assert not is_valid_national_number(number)


def test_check_digits_97_when_the_remainder_is_zero():
    # 97 * 1000000 = 97000000: remainder 0 gives check 97, never 00
    assert check_digits("097000000") == "97"
    assert is_valid_national_number("09700000097")


def test_mask_keeps_only_the_birth_date_part():
    assert mask_national_number(VALID_1985) == "85.07.30-***.**"
    assert mask_national_number("85.07.30-033.28") == "85.07.30-***.**"


def test_mask_of_garbage_shows_nothing():
    assert mask_national_number("1234") == "**.**.**-***.**"
    assert "1234" not in mask_national_number("12345678901234")


def test_format():
    assert format_national_number(VALID_1985) == "85.07.30-033.28"
    with pytest.raises(ValueError):
        format_national_number("123")
