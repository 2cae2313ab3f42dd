from __future__ import annotations

import pytest

from bot.rules.categories import (
    PURPOSES,
    category_names,
    infer_categories,
    infer_purpose,
    is_litigation_related,
    match_category_answer,
)

ALL_CATEGORIES = [
    "城乡建设", "劳动和社会保障", "市场监管", "农村农业", "自然资源", "卫生健康", "教育",
    "民政", "交通运输", "生态环境", "涉法涉诉", "纪检监察", "组织人事", "其他",
]


def test_category_names_in_config_order() -> None:
    assert category_names() == ALL_CATEGORIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("工地包工头拖欠工资三个月", [("劳动和社会保障", 0.867), ("城乡建设", 0.133)]),
        ("楼下饭店油烟太大噪音扰民", [("生态环境", 0.857), ("市场监管", 0.143)]),
        ("买的预付卡商家跑路了", [("市场监管", 1.0)]),
        ("村里宅基地分配不公", [("农村农业", 1.0)]),
        ("单位不给交社保", [("劳动和社会保障", 1.0)]),
        ("小区违建一直没人拆", [("城乡建设", 1.0)]),
        ("晚上工厂偷排污水，有很重的异味", [("生态环境", 1.0)]),
        ("孩子入学被拒", [("教育", 1.0)]),
        ("申请低保被拒绝", [("民政", 1.0)]),
        ("村干部贪污集体资金", [("纪检监察", 0.556), ("农村农业", 0.444)]),
        ("村委会分红不公开", [("农村农业", 1.0)]),
        ("你好", []),
        ("", []),
    ],
)
def test_infer_categories(text: str, expected: list[tuple[str, float]]) -> None:
    assert infer_categories(text) == expected


def test_infer_categories_top_limits_the_list_and_ties_keep_config_order() -> None:
    text = "小区物业乱收费，社保，噪音"
    # 城乡建设 小区+物业 = 4, 市场监管 乱收费 = 3, 劳动 社保 = 2, 生态 噪音 = 2 (tie: config order)
    assert infer_categories(text, top=4) == [
        ("城乡建设", 0.364), ("市场监管", 0.273), ("劳动和社会保障", 0.182), ("生态环境", 0.182),
    ]
    assert infer_categories(text) == infer_categories(text, top=4)[:3]
    assert infer_categories(text, top=1) == [("城乡建设", 0.364)]
    assert infer_categories(text, top=0) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我在三墩那边的工地干了半年活，老板一直拖着工资不给", "劳动和社会保障"),
        ("小区楼下饭店的油烟熏得我们不敢开窗", "生态环境"),
        ("健身房的会员卡充了五千块，现在老板跑路了", "市场监管"),
    ],
)
def test_a_typical_phrasing_outweighs_incidental_keywords(text: str, category: str) -> None:
    # "工地" (城乡建设), "小区"/"饭店", "老板跑路" (劳动) are incidental here
    assert infer_categories(text)[0][0] == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("劳动方面的", "劳动和社会保障"),
        ("社保", "劳动和社会保障"),
        ("欠薪", "劳动和社会保障"),
        ("劳动和社会保障", "劳动和社会保障"),
        ("城乡建设", "城乡建设"),
        ("物业", "城乡建设"),
        ("市场监管", "市场监管"),
        ("食品安全", "市场监管"),
        ("自然资源(国土)", "自然资源"),
        ("国土", "自然资源"),
        ("环保", "生态环境"),
        ("噪音", "生态环境"),
        ("学校的事", "教育"),
        ("涉法涉诉（政法）", "涉法涉诉"),
        ("社会组织", "民政"),  # the longer keyword beats the alias 组织
        ("纪委", "纪检监察"),
        ("其他", "其他"),
        ("都不是", "其他"),
        ("不知道", None),
        ("噪音和欠薪", None),  # two categories, equal weight
        ("", None),
    ],
)
def test_match_category_answer(text: str, category: str | None) -> None:
    assert match_category_answer(text) == category


def test_purposes() -> None:
    assert PURPOSES == ["求决", "申诉", "意见建议", "揭发控告", "咨询", "其他"]


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("要求支付拖欠工资", "求决"),
        ("楼上漏水", "求决"),
        ("", "求决"),
        ("请问拆迁补偿标准是多少？", "咨询"),
        ("想问一下低保怎么申请", "咨询"),
        ("举报某某贪污", "揭发控告"),
        ("我要检举村干部受贿", "揭发控告"),
        ("对处理结果不服", "申诉"),
        ("处分不当，申请撤销处分", "申诉"),
        ("建议在路口加装红绿灯", "意见建议"),
    ],
)
def test_infer_purpose(text: str, purpose: str) -> None:
    assert infer_purpose(text) == purpose


@pytest.mark.parametrize(
    ("text", "related"),
    [
        ("法院判决以后对方不执行", True),
        ("我已经起诉了", True),
        ("申请强制执行两年了没有结果", True),
        ("劳动仲裁裁决书下来了", True),
        ("对行政复议决定不服", True),
        ("打官司输了", True),
        ("派出所不立案", True),
        ("小区物业乱收费", False),
        ("楼下饭店油烟太大", False),
        ("", False),
    ],
)
def test_is_litigation_related(text: str, related: bool) -> None:
    assert is_litigation_related(text) is related
