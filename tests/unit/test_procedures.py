"""Matters for other procedures (诉访分离), visits over levels and 第26条, from ordinary words."""

from __future__ import annotations

import pytest

from bot.rules.procedures import (
    ADMIN_REVIEW,
    ARBITRATION,
    DISCIPLINE,
    ENFORCEMENT,
    INTENT_PROCEDURES,
    JUDGMENT,
    LAWSUIT,
    LITIGATION,
    POLICE,
    REFERRAL_DEFAULTS,
    SERVICE,
    ProcedureMatch,
    procedure_for,
    detect_procedure,
    detect_prohibited,
    opening_procedure,
    referral_bodies,
)
from tests.unit.nlu_data import examples, texts_of


@pytest.mark.parametrize(
    ("text", "procedure", "topic"),
    [
        ("法院判了我不服", LITIGATION, JUDGMENT),
        ("对方不执行判决", LITIGATION, ENFORCEMENT),
        ("判决书下来一年了对方一分没给", LITIGATION, ENFORCEMENT),
        ("我被骗了，报警以后派出所一直不立案", LITIGATION, POLICE),
        ("借给朋友的钱不还，我想起诉他", LITIGATION, LAWSUIT),
        # the procuratorate after a judgment or a refused retrial is the judgment route
        ("再审申请被法院驳回了，还能找检察院吗", LITIGATION, JUDGMENT),
        ("检察院对我的申诉一直没有答复", LITIGATION, JUDGMENT),
        ("刑事案件一审判决不服，多少天内可以上诉", LITIGATION, JUDGMENT),
        ("报案以后检察院也不管", LITIGATION, POLICE),
        ("公司不给工资我去仲裁了", ARBITRATION, ARBITRATION),
        ("仲裁裁决下来了，公司还是不给钱", ARBITRATION, ARBITRATION),
        ("城管罚了我五千块，我觉得不合理", ADMIN_REVIEW, ADMIN_REVIEW),
        ("我想告政府，行政诉讼怎么打", ADMIN_REVIEW, ADMIN_REVIEW),
        ("交警的处罚我不认可，想复议", ADMIN_REVIEW, ADMIN_REVIEW),
        ("村支书贪污", DISCIPLINE, DISCIPLINE),
        ("有个街道干部收了开发商的好处", DISCIPLINE, DISCIPLINE),
        ("城管队长收了摊贩的钱就不管他们", DISCIPLINE, DISCIPLINE),
        ("路灯坏了", SERVICE, SERVICE),
        ("门口的窨井盖丢了", SERVICE, SERVICE),
        ("公交末班车太早了", SERVICE, SERVICE),
    ],
)
def test_procedures_from_ordinary_descriptions(text: str, procedure: str, topic: str) -> None:
    assert detect_procedure(text) == ProcedureMatch(procedure, topic, detect_procedure(text).words)


@pytest.mark.parametrize(
    "text",
    [
        "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱",
        "我们小区楼下新开的饭店油烟特别大，熏得窗户都不敢开，二十多户业主都受不了了",
        "我想反映我们这边公交车站撤掉了，老人出门很不方便",  # a removed stop: a petition
        "村口那条路坑坑洼洼的，修了半年还没修好",
        "单位辞退我不给经济补偿，我想反映一下",
        "我的宅基地被村里划给别人了，我一直不服，反映了好几年",
        "工伤认定下来了但是单位一直不给报销医药费",
        "我要投诉",
    ],
)
def test_ordinary_petitions_stay_petitions(text: str) -> None:
    assert detect_procedure(text) is None


def test_a_service_cue_inside_a_long_story_does_not_divert_it() -> None:
    story = ("我们古荡街道这条路去年刚铺的柏油，今年又挖开埋管子，埋完随便填了填，到处是坑，旁边几米深的"
             "基坑就用几块铁皮围了一下，晚上路灯也不亮，前天一个骑电动车的老人掉进去了")
    assert detect_procedure(story).procedure == SERVICE
    assert opening_procedure(story) is None
    assert opening_procedure("路灯坏了好几天了").procedure == SERVICE


def test_no_petition_example_is_diverted() -> None:
    # action_start_intake diverts a description the patterns place in another procedure: no
    # example the classifier learns as a petition may be such a description.
    diverted = [t for t in texts_of("file_petition") if opening_procedure(t) is not None]
    assert diverted == []


def test_the_patterns_never_contradict_the_channel_intents() -> None:
    contradictions = [
        (intent, text, found.procedure)
        for intent, text in examples()
        if intent in INTENT_PROCEDURES and (found := detect_procedure(text)) and found.procedure != INTENT_PROCEDURES[intent]
    ]
    assert contradictions == []


def test_the_patterns_recognise_most_channel_examples() -> None:
    for intent, procedure in INTENT_PROCEDURES.items():
        texts = texts_of(intent)
        found = [t for t in texts if detect_procedure(t)]
        assert len(found) >= 0.5 * len(texts), (intent, len(found), len(texts))


def test_procedure_for_refines_the_intent_and_falls_back_to_it() -> None:
    # the words win over a neighbouring intent; without words the intent's default topic
    assert procedure_for("procedure_litigation", "仲裁裁决公司不执行") == ProcedureMatch(ARBITRATION, ARBITRATION, "仲裁")
    assert procedure_for("procedure_litigation", "") == ProcedureMatch(LITIGATION, LAWSUIT)
    assert procedure_for("procedure_service", "那个东西坏了") == ProcedureMatch(SERVICE, SERVICE)
    assert procedure_for("greet", "你好") is None


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("拉横幅堵门", [1]),
        ("我们明天去区政府门口拉横幅", [1]),
        ("带一桶汽油去区政府门口", [2]),
        ("我要去骂那些工作人员", [3]),
        ("不解决就睡在信访局不走了", [4]),
        ("大家凑点钱，雇几个人去上访", [5]),
        ("不闹不解决", [6]),
        ("我想反映小区物业乱收费", []),
    ],
)
def test_prohibited(text: str, items: list[int]) -> None:
    assert detect_prohibited(text) == items


def test_referral_bodies_come_from_the_jurisdiction_file() -> None:
    bodies = referral_bodies()
    assert bodies == {
        "court": "杭州市西湖区人民法院",
        "procuratorate": "杭州市西湖区人民检察院",
        "police": "杭州市公安局西湖区分局",
        "labour_arbitration": "杭州市西湖区劳动人事争议仲裁委员会",
        "admin_review": "杭州市西湖区人民政府",
    }
    assert not any("政法委" in name for name in bodies.values())


def test_a_body_the_file_does_not_name_gets_a_generic_name(tmp_path) -> None:
    path = tmp_path / "jurisdiction.yml"
    path.write_text("referral_bodies:\n  court: 某某区人民法院\n", encoding="utf-8")
    bodies = referral_bodies(path)
    assert bodies["court"] == "某某区人民法院"
    assert bodies["admin_review"] == REFERRAL_DEFAULTS["admin_review"]
    assert set(bodies) == set(REFERRAL_DEFAULTS)
