"""证件 other than the resident ID, and contact without a mobile (条例 第19条)."""

from __future__ import annotations

import pytest

from bot.rules.documents import check_document
from bot.rules.phone import check_contact


@pytest.mark.parametrize(
    ("text", "id_type", "number"),
    [
        ("11010519491231002x", "resident_id", "11010519491231002X"),
        ("810000199001010010", None, None),  # checked by its own check digit below
        ("回乡证 M1234567801", "hk_macao_permit", "M1234567801"),
        ("H12345678", "hk_macao_permit", "H12345678"),
        ("台湾居民来往大陆通行证 1234 5678", "taiwan_permit", "12345678"),
        ("护照号码 g1234 5678", "passport", "G12345678"),
        ("绿卡 CAN123456789012", "foreign_permanent_residence", "CAN123456789012"),
    ],
)
def test_documents_are_recognised_with_their_type(text, id_type, number):
    result = check_document(text)
    if id_type is None:
        return
    assert result.ok, result.message
    assert (result.value.id_type, result.value.number) == (id_type, number)


def test_a_residence_permit_of_hk_macao_taiwan_residents_is_typed_by_its_prefix():
    from stdnum.cn import ric

    body = "81000019900101001"
    number = body + ric.calc_check_digit(body + "0")
    result = check_document(number)
    assert result.ok and result.value.id_type == "residence_permit"


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("台胞证 1234", "taiwan_permit.format", "8位数字"),
        ("护照 E1", "passport.format", "5至20位"),
        ("回乡证 X12345678", "hk_macao_permit.format", "H（香港）或M（澳门）"),
        ("我的证件", "not_found", "身份证号码"),
    ],
)
def test_wrong_documents_are_explained(text, error, fragment):
    result = check_document(text)
    assert not result.ok and result.error == error and fragment in result.message


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("13812345678", "mobile", "13812345678"),
        ("一三八一二三四五六七八", "mobile", "13812345678"),
        ("没手机，家里座机 0571-88001234", "landline", "0571-88001234"),
        ("都没有", "none", None),
        ("没有电话", "none", None),
    ],
)
def test_a_contact_is_a_mobile_a_landline_or_none(text, kind, number):
    result = check_contact(text)
    assert result.ok, result.message
    assert (result.value.kind, result.value.number) == (kind, number)


def test_no_mobile_asks_for_a_landline_and_a_bad_number_is_explained():
    assert check_contact("我没有手机").error == "no_mobile"
    assert check_contact("88001234").error == "area_code"
    assert check_contact("1381234567").error == "length"
