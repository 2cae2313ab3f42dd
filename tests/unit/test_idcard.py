from __future__ import annotations

from datetime import date

import pytest

from bot.rules.idcard import check_id_number, id_birth_date
from tests.unit.helpers import assert_accepted, assert_rejected

TODAY = date(2026, 11, 22)
VALID = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("11010519491231002X", VALID),
        ("11010519491231002x", VALID),  # lowercase x stored uppercase
        ("1101 0519 4912 3100 2x", VALID),
        ("我的身份证号是 1101 0519 4912 3100 2x", VALID),
        ("110105-19491231-002X", VALID),
        ("１１０１０５１９４９１２３１００２Ｘ", VALID),  # full-width digits and letter
        ("１１０１０５１９４９１２３１００２ｘ", VALID),
        ("身份证：11010519491231002X，谢谢", VALID),
        ("ID 11010519491231002X", VALID),
        ("身份证11010519491231002X 手机13812345678", VALID),
        ("\u200b33010619900101123X ", "33010619900101123X"),
        ("330106200002290029", "330106200002290029"),  # 29 February of a leap year
        ("913306199001011231", "913306199001011231"),  # foreigner's permanent residence ID
        ("330106202601010016", "330106202601010016"),  # born this year, before today
    ],
)
def test_valid_ids(text: str, value: str) -> None:
    assert_accepted(check_id_number(text, today=TODAY), value)


def test_default_today_accepts_the_worked_example() -> None:
    assert_accepted(check_id_number(VALID), VALID)


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", "empty", "18位"),
        ("   ", "empty", "18位"),
        ("我不想说", "not_found", "没有在您的回复中找到"),
        ("1" * 2001, "too_long", "2000"),
        ("110105491231002", "length_15", "15位"),
        ("110 105 491 231 002", "length_15", "旧版"),
        ("11010519491231002", "length", "有17位"),
        ("1101051949123100211", "length", "有19位"),
        ("1101051949", "length", "有10位"),
        ("110105AB491231002X", "chars", "第7位是「A」"),
        ("1101051949123100X2", "chars", "第17位是「X」"),
        ("110105194912310O2X", "chars", "第16位是「O」"),
        ("110105194902300020", "birth_date", "「19490230」不是一个真实的日期"),  # 30 February
        ("110105194913310021", "birth_date", "「19491331」"),  # month 13
        ("110105194912000025", "birth_date", "「19491200」"),  # day 0
        ("11010520300101001X", "birth_date", "2030年1月1日，晚于今天"),
        ("110105189912310015", "birth_date", "1899年12月31日，早于1900年"),
        ("010105194912310026", "region", "「010105」"),
        ("100105194912310026", "region", "不是有效的地区代码"),
        ("110105194912310021", "checksum", "校验码"),
        ("110105194912310020", "checksum", "逐位核对"),
        ("33010619900101123X".replace("123X", "1231"), "checksum", "校验码"),
    ],
)
def test_invalid_ids(text: str, error: str, fragment: str) -> None:
    assert_rejected(check_id_number(text, today=TODAY), error, fragment, "11010519491231002X")


def test_birth_today_is_accepted_and_tomorrow_is_future() -> None:
    number = "330106202601010016"
    assert check_id_number(number, today=date(2026, 1, 1)).ok is True
    assert_rejected(check_id_number(number, today=date(2025, 12, 31)), "birth_date", "晚于今天")


def test_15_digit_message_explains_18_digits_needed() -> None:
    check = check_id_number("110105491231002", today=TODAY)
    assert check.message == (
        "您输入的是15位的旧版身份证号码，现在需要18位的居民身份证号码"
        "（第二代身份证正面下方的号码）。请重新输入，例如：11010519491231002X。"
    )


def test_checksum_message_does_not_reveal_the_right_check_digit() -> None:
    check = check_id_number("110105194912310021", today=TODAY)
    assert "应为" not in (check.message or "")
    assert check.error == "checksum"


def test_id_birth_date() -> None:
    assert id_birth_date(VALID) == date(1949, 12, 31)
    assert id_birth_date("33010619900101123x") == date(1990, 1, 1)
    with pytest.raises(ValueError):
        id_birth_date("110105491231002")
    with pytest.raises(ValueError):
        id_birth_date("110105194902300020")
