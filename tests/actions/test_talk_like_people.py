"""The intake with citizens who do not answer one question at a time (issue 11): a name given
late, a number given after all, a refusal while the notice is asked, a vague opener, a group."""

from __future__ import annotations

import pytest

from actions.intake import QUESTIONS, ActionStartIntake, ValidatePetitionForm, is_vague_opener, place_of_address
from bot.rules.fields import NOT_APPLICABLE, NOT_PROVIDED
from tests.actions.conftest import make_tracker, slot_events, texts_of
from tests.actions.test_intake_form import FILLED


async def validate(domain, dispatcher, **kwargs) -> dict:
    events = await ValidatePetitionForm().validate_turn(dispatcher, make_tracker(domain, **kwargs), domain)
    return slot_events(events)


async def test_a_phone_told_while_the_name_is_asked_gives_no_name(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="先记一下我电话15157190648", requested_slot="petitioner_name",
        slots={"pi_consent": True},
    )
    assert slots["phone"] == "15157190648"
    assert "petitioner_name" not in slots
    assert "联系电话" in texts_of(dispatcher)


async def test_a_bare_name_while_the_id_consent_is_asked_is_the_name(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="许国平", requested_slot="id_consent", slots={"pi_consent": True},
    )
    assert slots["petitioner_name"] == "许国平"
    assert "id_consent" not in slots  # the separate consent is asked again
    assert "姓名「许国平」" in texts_of(dispatcher)


async def test_an_id_number_given_after_declining_it_is_the_consent(domain, dispatcher):
    declined = {"pi_consent": True, "petitioner_name": "林水根", "id_consent": False, "id_type": "none",
                "id_number": NOT_PROVIDED, "guardian_consent": NOT_APPLICABLE}
    slots = await validate(
        domain, dispatcher, text="想了想还是把身份证号给你吧，330102199801280969", requested_slot="phone",
        slots=declined,
    )
    assert slots["id_consent"] is True
    assert slots["id_number"] == "330102199801280969" and slots["id_type"] == "resident_id"
    assert "phone" not in slots and "facts" not in slots
    assert "手机号码应为11位" not in texts_of(dispatcher)


async def test_not_registering_while_the_notice_is_asked_declines_it(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="那我去滨江那边反映吧，不登记了", intent="cancel", confidence=0.98,
        requested_slot="pi_consent",
    )
    assert slots["pi_consent"] is False and slots["intake_status"] == "declined"


async def test_a_filler_before_a_story_is_no_consent(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="嗯，已经盖了三层了，村干部说上面批过的，可是谁也拿不出批文",
        intent="file_petition", requested_slot="pi_consent", slots={"facts": "我们村有人在基本农田上违法盖厂房"},
    )
    assert slots.get("pi_consent") is None
    assert "批文" in slots["facts"]


async def test_an_answer_said_with_going_on_is_taken(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="救护车来了，我接着填，住址是西湖区灵隐街道天竺路5号", intent="continue_petition",
        requested_slot="address", slots={"pi_consent": True},
    )
    assert slots["address"] == "西湖区灵隐街道天竺路5号"


def test_vague_openers():
    assert is_vague_opener("就是那个，我们小区的事")
    assert is_vague_opener("有个问题")
    assert not is_vague_opener("我想投诉")
    assert not is_vague_opener("钱没给 工地 三墩")


async def test_a_vague_opener_is_asked_for_the_matter_before_the_notice(domain, dispatcher):
    events = await ActionStartIntake().run(
        dispatcher, make_tracker(domain, text="就是那个，我们小区的事", intent="file_petition", active_loop=None), domain
    )
    assert {"event": "followup", "name": "action_listen"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert "具体说说" in texts_of(dispatcher)


async def test_the_first_read_back_of_a_group_matter_states_the_representatives_rule(domain, dispatcher):
    QUESTIONS["summary_confirmed"].events(dispatcher, make_tracker(domain, slots={**FILLED, "group_size": 30.0}))
    reply = texts_of(dispatcher)
    assert "第二十条" in reply and "请核对您的登记信息" in reply


async def test_one_person_gets_no_representatives_rule(domain, dispatcher):
    QUESTIONS["summary_confirmed"].events(dispatcher, make_tracker(domain, slots=FILLED))
    assert "第二十条" not in texts_of(dispatcher)


def test_corrections_in_natural_words_find_their_field():
    from actions.corrections import correction_target

    assert correction_target("地址写错了，应该是西湖区古荡街道申花路500号2幢1单元1103室", None) == (
        "address", "西湖区古荡街道申花路500号2幢1单元1103室")
    field, value = correction_target("哦不对，站台不在留下，是在转塘那边，我搞错了", None)
    assert field == "place" and "转塘" in value


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("西湖区文新街道竞舟路66号", "文新街道"),
        ("转塘街道某某村35号", "转塘街道"),
        ("西湖区文新街道三墩路8号", "文新街道"),  # the road's name is not the place
        ("西湖区三墩路8号", None),  # only a road named after a 镇: asked
        ("我住在翠苑一区12幢402", None),  # a 小区's name: asked
        ("西湖区文心街道三墩路某某小区4幢", None),  # misspelt: asked
        ("余杭区良渚街道某某路1号", None),  # outside the area: asked (and explained)
    ],
)
def test_the_place_taken_from_an_address_only_when_named_in_full(address, place):
    assert place_of_address(address) == place
