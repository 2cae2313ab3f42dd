"""Same-matter matching (bot/rules/matching.py) and its labelled set (tests/data/same_matter.yml)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from bench.matching import DATA, load_set
from bot.rules.categories import category_names
from bot.rules.matching import (
    SAME_MATTER_THRESHOLD,
    SAME_PLACE_CATEGORY,
    SAME_RESPONDENT,
    Matter,
    canonical_numbers,
    match,
    normalize_respondent,
    same_matter,
    same_matter_scores,
    same_respondent,
    similarity_matrix,
    topic_text,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))
import same_matter_data  # noqa: E402  (scripts/same_matter_data.py)

LABOUR = "劳动和社会保障"
BUILDING = "城乡建设"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("杭州宏达建筑工程有限公司", "宏达建筑工程"),
        ("宏达建筑公司", "宏达建筑"),
        ("宏达建筑", "宏达建筑"),
        ("杭州市西湖区宏达建筑工程有限公司", "宏达建筑工程"),
        ("浙江省杭州市宏达建筑股份有限公司", "宏达建筑"),
        ("杭州宏达建筑工程有限公司（西溪项目部）", "宏达建筑工程"),
        ("宏达 建筑，工程有限责任公司", "宏达建筑工程"),
        ("ＡＢＣ科技有限公司", "abc科技"),
        ("杭州绿苑物业服务有限公司", "绿苑物业服务"),
        ("西湖区住建局", "住建局"),
        ("杭州公司", "公司"),  # two characters must remain
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_respondent(given: str | None, expected: str) -> None:
    assert normalize_respondent(given) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("杭州某某建筑工程有限公司", "某某建筑公司"),
        ("杭州某某建筑工程有限公司", "某某建筑"),
        ("某某建筑公司", "某某建筑"),
        ("杭州绿苑物业服务有限公司", "绿苑物业"),
        ("夜色酒吧", "文三路夜色酒吧"),
        ("力健健身", "力健健身古荡店"),
        ("双浦镇人民政府", "双浦镇政府"),
        ("区住建局", "西湖区住建局"),
        ("云帆网络科技有限公司", "杭州云帆科技"),
    ],
)
def test_same_respondent(a: str, b: str) -> None:
    assert same_respondent(a, b)
    assert same_respondent(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("某某物业", "某某建筑"),
        ("宏达物业服务有限公司", "宏达建筑工程有限公司"),
        ("宏达建筑", "宏远建筑"),
        ("双浦镇人民政府", "三墩镇人民政府"),
        ("绿苑物业", "金桂物业"),
        ("物业公司", "物业公司"),  # names nobody in particular
        ("包工头", "包工头"),
        ("", ""),
        (None, None),
        (None, "宏达建筑"),
        ("宏达建筑", ""),
    ],
)
def test_different_respondents(a: str | None, b: str | None) -> None:
    assert not same_respondent(a, b)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("欠了三万八", "欠了38000"),
        ("欠了3.8万元", "欠了38000元"),
        ("欠了38,000元", "欠了38000元"),
        ("欠了3万8", "欠了38000"),
        ("四十六万元", "460000元"),
        ("三月十五号", "3月15号"),
        ("从一块八涨到两块六", "从1.8元涨到2.6元"),
        ("三百块钱", "300元"),
        ("一直在三墩", "一直在三墩"),
        ("万一出事", "万一出事"),
    ],
)
def test_canonical_numbers(given: str, expected: str) -> None:
    assert canonical_numbers(given) == expected


def test_similarity_matrix_shape_and_bounds() -> None:
    texts = ["电梯坏了三次，老人被困", "电梯又坏了，困了一个老人", "物业费从一块八涨到两块六", ""]
    sim = similarity_matrix(texts)
    assert sim.shape == (4, 4)
    assert np.allclose(sim, sim.T)
    assert np.all((sim >= 0) & (sim <= 1 + 1e-9))
    assert np.allclose(np.diag(sim)[:3], 1.0)
    assert sim[3].max() == 0  # an empty text is similar to nothing
    assert sim[0, 1] > sim[0, 2]
    assert similarity_matrix([]).shape == (0, 0)
    assert similarity_matrix(["", "。"]).max() == 0


def test_amounts_told_differently_count_as_the_same_word() -> None:
    sim = similarity_matrix(["老板欠我们三万八", "老板欠我们38000元", "老板欠我们3.8万", "老板欠我们五千"])
    assert sim[0, 1] > sim[0, 3] and sim[0, 2] > sim[0, 3]


def test_topic_text_blanks_the_petitions_own_place_and_respondent() -> None:
    matter = Matter(BUILDING, "杭州绿苑物业服务有限公司", "文新街道", "文新街道丹桂花园",
                    "文新街道丹桂花园的电梯坏了，杭州绿苑物业服务有限公司不修，那家物业真不像话。", "要求修电梯。")
    text = topic_text(matter)
    assert "丹桂花园" not in text and "绿苑" not in text
    assert "电梯" in text and "那家物业" in text


# Hand-written petitions: one wage dispute told three ways, other matters of the same company or
# place, and a copy of the first petition with neither respondent nor place in common.
WAGES = Matter(LABOUR, "杭州宏达建筑工程有限公司", "三墩镇", "三墩镇振华路工地",
               "宏达建筑在振华路的工地拖欠我们钢筋班组工资，一共三万八，从去年十二月拖到现在。", "要求尽快结清工资。")
WAGES_AGAIN = Matter(LABOUR, "宏达建筑", "三墩镇", "三墩振华路",
                     "我们钢筋工在宏达的工地干了四个月，38000元工资一直没发，老板天天说下周。", "请帮我们讨回工钱。")
WAGES_NO_RESPONDENT = Matter(LABOUR, None, "三墩镇", "三墩镇", "振华路工地的钢筋班组被拖欠3.8万工资，已经好几个月了。",
                             "希望政府帮忙要工资。")
NOISE_SAME_COMPANY = Matter("生态环境", "宏达建筑公司", "三墩镇", "三墩镇振华路工地",
                            "宏达建筑的工地晚上打桩到凌晨，吵得睡不着觉。", "要求夜间停止施工。")
ELSEWHERE = Matter(LABOUR, "美家装饰", "蒋村街道", "蒋村", WAGES.facts, WAGES.request)


def test_same_matter_told_in_other_words() -> None:
    results = match(WAGES, [WAGES_AGAIN, WAGES_NO_RESPONDENT])
    assert [r.reason for r in results] == [SAME_RESPONDENT, SAME_PLACE_CATEGORY]
    assert all(r.same for r in results), results
    assert same_matter(WAGES, [WAGES_AGAIN, WAGES_NO_RESPONDENT]) == [True, True]


def test_same_company_another_problem_is_another_matter() -> None:
    assert same_matter(WAGES, [NOISE_SAME_COMPANY]) == [False]
    assert 0 < same_matter_scores(WAGES, [NOISE_SAME_COMPANY])[0] < SAME_MATTER_THRESHOLD


def test_same_words_without_the_gate_are_never_the_same_matter() -> None:
    assert match(WAGES, [ELSEWHERE])[0].reason == ""
    assert same_matter_scores(WAGES, [ELSEWHERE]) == [0.0]
    assert same_matter(WAGES, [ELSEWHERE]) == [False]


def test_same_property_company_elevator_versus_fees() -> None:
    elevator = Matter(BUILDING, "杭州绿苑物业服务有限公司", "文新街道", "文新街道丹桂花园",
                      "丹桂花园3幢电梯一个月坏了三次，老人被困了四十分钟，物业不修。", "要求物业修好电梯。")
    elevator_again = Matter(BUILDING, "绿苑物业", "文新街道", "丹桂花园",
                            "3号楼的电梯又坏了，这个月第三次困人了，绿苑物业只会重启。", "请督促物业大修电梯。")
    fees = Matter(BUILDING, "绿苑物业", "文新街道", "丹桂花园",
                  "绿苑物业把物业费从每平方一块八涨到两块六，没开业主大会。", "要求撤回涨价。")
    assert same_matter(elevator, [elevator_again, fees]) == [True, False]


def test_no_earlier_petition() -> None:
    assert same_matter(WAGES, []) == [] and same_matter_scores(WAGES, []) == []


# --- the labelled set ----------------------------------------------------------------------


def test_data_file_is_what_the_generator_writes() -> None:
    expected = same_matter_data.render(same_matter_data.build())
    assert DATA.read_text(encoding="utf-8") == expected, "run `python scripts/same_matter_data.py`"


def test_data_set_shape() -> None:
    text = DATA.read_text(encoding="utf-8")
    assert text.startswith("# ") and "scripts/same_matter_data.py" in text.splitlines()[1]
    records = yaml.safe_load(text)["petitions"]
    assert len(records) >= 200
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))
    per_matter = Counter(r["matter"] for r in records)
    assert 40 <= len(per_matter) <= 50
    assert all(3 <= n <= 6 for n in per_matter.values()), per_matter
    assert {r["category"] for r in records} <= set(category_names())
    for record in records:
        assert list(record) == ["id", "matter", "category", "respondent", "location_division",
                                "location_text", "facts", "request"]
        assert record["facts"] and record["request"] and record["location_text"]


def test_data_set_has_near_misses() -> None:
    records = yaml.safe_load(DATA.read_text(encoding="utf-8"))["petitions"]
    def matters_against(respondent: str) -> set[str]:
        return {r["matter"] for r in records if same_respondent(r["respondent"], respondent)}

    assert len(matters_against("杭州绿苑物业服务有限公司")) == 3  # elevator, fee rise, parking fees
    assert len(matters_against("杭州宏达建筑工程有限公司")) == 3  # wages, night noise, dust
    by_place: dict[tuple[str, str], set[str]] = {}
    for r in records:
        if r["location_division"]:
            by_place.setdefault((r["location_division"], r["category"]), set()).add(r["matter"])
    assert sum(1 for matters in by_place.values() if len(matters) > 1) >= 8


def test_precision_and_recall_on_the_labelled_set() -> None:
    petitions = load_set()
    tp = fp = fn = 0
    for position in range(1, len(petitions)):
        new = petitions[position]
        earlier = petitions[:position]
        for other, result in zip(earlier, match(new.petition, [p.petition for p in earlier])):
            positive = other.matter == new.matter
            tp += positive and result.same
            fp += result.same and not positive
            fn += positive and not result.same
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
