from __future__ import annotations

import pytest

from bot.rules.masking import mask_id_number, mask_phone


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("330106199001011234", "330106********1234"),
        ("110105491231002", "110105*****1002"),  # 15-digit legacy number
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0571-88001234", "0571-****1234"),
        ("057188001234", "0571-****1234"),
        ("010-62345678", "010-****5678"),
        ("020-2345678", "020-***5678"),
        ("88001234", "****1234"),
        ("123", "***"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_masks_hide_the_middle() -> None:
    assert "19491231" not in mask_id_number("11010519491231002X")
    assert "1234" not in mask_phone("13812345678")[:7]
