"""Case numbers, query codes and Chinese dates: one definition each, used everywhere."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.rules.case_numbers import (
    find_case_no,
    find_query_code,
    format_case_no,
    is_case_no,
    is_query_code,
    looks_like_case_no_prefix,
)
from bot.rules.cn_dates import cn_date
from bot.rules.masking import mask_numbers_in_text


def test_the_store_format_is_the_pattern_the_api_accepts():
    for year, n in [(2026, 1), (2026, 999999), (2030, 1234567)]:
        assert is_case_no(format_case_no(year, n))
    assert format_case_no(2026, 123) == "XF2026000123"
    assert not is_case_no("XF2026123") and not is_case_no("xf2026000123") and not is_case_no("")


@pytest.mark.parametrize(
    ("text", "found"),
    [("编号是xf-2026-000123", "XF2026000123"), ("XF 2026 000123 查询码 483920", "XF2026000123"),
     ("ＸＦ２０２６０００１２３", "XF2026000123"), ("没有编号", None), ("AXF2026000123", None)],
)
def test_a_case_number_is_found_in_free_text(text, found):
    assert find_case_no(text) == found


def test_the_query_code_is_not_read_from_the_case_number():
    assert find_query_code("XF2026000123 483920") == "483920"
    assert find_query_code("XF2026000123") is None
    assert is_query_code("483920") and not is_query_code("48392")


def test_search_entries_that_look_like_case_numbers():
    assert looks_like_case_no_prefix("XF2026") and looks_like_case_no_prefix("xf 2026-000123")
    assert not looks_like_case_no_prefix("张三")


@pytest.mark.parametrize(
    ("value", "text"),
    [(date(2026, 12, 7), "2026年12月7日"), ("2026-12-07", "2026年12月7日"),
     (datetime(2026, 12, 6, 17, 0, tzinfo=timezone.utc), "2026年12月7日"),  # 01:00 in Shanghai
     ("2026-12-06T17:00:00+00:00", "2026年12月7日"), (None, "")],
)
def test_one_chinese_date_format(value, text):
    assert cn_date(value) == text


def test_numbers_in_free_text_are_masked():
    text = "我的身份证11010519491231002X，回乡证H12345678，电话+86 138-1234-5678，查询码：483920"
    masked = mask_numbers_in_text(text)
    assert "110105********002X" in masked and "138****5678" in masked and "查询码：******" in masked
    assert "H12345678" not in masked and "11010519491231002X" not in masked
