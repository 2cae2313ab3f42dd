from __future__ import annotations

import pytest

from bot.rules.checks import Check, failed, passed
from bot.rules.text import MAX_TEXT_LEN, is_cjk, normalize_text, spelled_digits_to_arabic, tidy_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("１３８１２３４５６７８", "13812345678"),
        ("ＡＢＣ　ｘ", "ABC x"),
        ("你好，世界！", "你好,世界!"),
        ("电话：１３８", "电话:138"),
        ("1\u200b3\u200c8\ufeff", "138"),
        ("  a \t\n  b  ", "a b"),
        ("张\u3000三", "张 三"),
        ("文新街道。", "文新街道。"),
    ],
)
def test_normalize_text(raw: str | None, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_max_text_len() -> None:
    assert MAX_TEXT_LEN == 2000


def test_is_cjk() -> None:
    assert [is_cjk(c) for c in "张a1·"] == [True, False, False, False]


def test_check_helpers() -> None:
    assert passed("x") == Check(ok=True, value="x", error=None, message=None)
    assert failed("empty", "请输入") == Check(ok=False, value=None, error="empty", message="请输入")
    with pytest.raises(AttributeError):
        passed("x").ok = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("买了房，交房以后发现墙体开裂！怎么办？", "买了房，交房以后发现墙体开裂！怎么办？"),
        ("诉求：退款；（急）", "诉求：退款；（急）"),
        ("欠款４万元\u200b，ＡＢＣ", "欠款4万元，ABC"),
        ("  一\u3000\u3000二\n三  ", "一 二 三"),
    ],
)
def test_tidy_text_keeps_chinese_punctuation(raw: str | None, expected: str) -> None:
    assert tidy_text(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("幺三八幺二三四五六七八", "13812345678"),
        ("我的电话是一三八 一二三四 五六七八", "我的电话是13812345678"),
        ("一三九-零五七一-二四六八", "13905712468"),
        ("三个人", "三个人"),
        ("二十多户，欠了三万二", "二十多户，欠了三万二"),
    ],
)
def test_spelled_digits_to_arabic(text: str, expected: str) -> None:
    assert spelled_digits_to_arabic(text) == expected
