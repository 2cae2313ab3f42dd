from __future__ import annotations

import pytest

from bot.rules.phone import check_landline, check_mobile
from tests.unit.helpers import assert_accepted, assert_rejected


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "008613812345678",
        "8613812345678",
        "86 138 1234 5678",
        "138-1234-5678",
        "138 1234 5678",
        "(138)1234-5678",
        "（138）1234 5678",
        "１３８１２３４５６７８",
        "＋８６ １３８－１２３４－５６７８",
        "我的手机是13812345678",
        "手机号：138 1234 5678，谢谢",
        "138\u200b1234\u200b5678",
        "电话 0571-88001234 或者 13812345678",
        "13812345678 13912345678",
        "身份证11010519491231002X 手机13812345678",
    ],
)
def test_mobile_accepted(text: str) -> None:
    assert_accepted(check_mobile(text), "13812345678")


@pytest.mark.parametrize("prefix", ["130", "145", "147", "150", "162", "166", "171", "180", "191", "199"])
def test_mobile_prefixes(prefix: str) -> None:
    assert_accepted(check_mobile(prefix + "12345678"), prefix + "12345678")


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", "empty", "11位手机号码"),
        ("   ", "empty", "11位手机号码"),
        ("没有手机", "not_found", "没有在您的回复中找到电话号码"),
        ("1" * 2001, "too_long", "2000"),
        ("0571-88001234", "landline", "固定电话"),
        ("(0571)88001234", "landline", "第二联系方式"),
        ("010-12345678", "landline", "固定电话"),
        ("家里电话88001234", "landline", "固定电话"),
        ("+86 571 8800 1234", "landline", "固定电话"),
        ("1400123456789", "iot", "物联网"),
        ("1440 1234 56789", "iot", "13位"),
        ("1461234567890", "iot", "物联网"),
        ("1481234567890", "iot", "物联网"),
        ("1381234567", "length", "有10位"),
        ("138123456789", "length", "有12位"),
        ("138 1234 567", "length", "有10位"),
        ("12012345678", "not_mobile", "「12012345678」不是有效的手机号码"),
        ("10012345678", "not_mobile", "不是有效的手机号码"),
        ("14012345678", "not_mobile", "不是有效的手机号码"),
        ("+1 415 555 0100", "foreign", "中国大陆"),
        ("+852 9123 4567", "foreign", "中国大陆"),
    ],
)
def test_mobile_rejected(text: str, error: str, fragment: str) -> None:
    assert_rejected(check_mobile(text), error, fragment, "13812345678")


def test_landline_message_says_a_landline_may_be_a_second_contact() -> None:
    assert check_mobile("0571-88001234").message == (
        "您提供的是固定电话号码。为了能及时联系您，请提供11位手机号码，例如：13812345678；"
        "固定电话可以作为第二联系方式另外留给我们。"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0571-88001234", "0571-88001234"),
        ("057188001234", "0571-88001234"),
        ("(0571)88001234", "0571-88001234"),
        ("（0571）8800 1234", "0571-88001234"),
        ("０５７１－８８００１２３４", "0571-88001234"),
        ("+86 571 8800 1234", "0571-88001234"),
        ("0086-571-88001234", "0571-88001234"),
        ("010-62345678", "010-62345678"),
        ("020 2345678", "020-2345678"),
        ("0755-88001234", "0755-88001234"),
        ("家里座机 0571-88001234", "0571-88001234"),
    ],
)
def test_landline_accepted(text: str, value: str) -> None:
    assert_accepted(check_landline(text), value)


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", "empty", "固定电话"),
        ("没有座机", "not_found", "没有在您的回复中找到电话号码"),
        ("1" * 2001, "too_long", "2000"),
        ("13812345678", "mobile", "手机号码"),
        ("88001234", "area_code", "区号"),
        ("0571-880012", "length", "有10位"),
        ("0571-880012345", "length", "有13位"),
        ("+1 415 555 0100", "foreign", "中国大陆"),
    ],
)
def test_landline_rejected(text: str, error: str, fragment: str) -> None:
    assert_rejected(check_landline(text), error, fragment, "0571-88001234")


def test_a_mobile_spelled_in_chinese_digits_is_understood() -> None:
    assert check_mobile("幺三八 幺二三四 五六七八").value == "13812345678"
