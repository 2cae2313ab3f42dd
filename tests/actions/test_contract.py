"""The petition contract (bot/rules/fields.py) holds both sides together.

The form asks exactly the domain's required slots, every one has a check and a question; every
outcome the form can produce is accepted by the back office's validation; every refusal of the
back office sends the citizen back to a question the form asks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher
from stdnum.cn import ric

from actions import texts
from actions.answer_checks import CHECKS
from actions.intake import CUSTOM_QUESTIONS, QUESTIONS
from actions.status import LOOKUP_QUESTIONS
from actions.submission import ActionCompletePetition, case_payload, slots_to_ask_again
from bot.rules.categories import category_names
from bot.rules.fields import BY_API, BY_SLOT, FIELDS, FORM_SLOTS, NOT_APPLICABLE, REVIEW_STAGES
from bot.rules.jurisdiction import load_jurisdiction
from bot.web.errors import ApiError
from bot.api.schemas import validate_case_request
from tests.actions.conftest import slot_events

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


def cjk_text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(CJK, min_size=min_size, max_size=max_size)


def test_the_form_asks_exactly_the_domains_required_slots(domain):
    assert list(FORM_SLOTS) == domain["forms"]["petition_form"]["required_slots"]


def test_every_form_slot_has_a_check_a_question_and_a_domain_slot(domain):
    assert set(CHECKS) == set(FORM_SLOTS) - {"summary_confirmed"}
    assert set(QUESTIONS) == set(FORM_SLOTS)
    assert all(QUESTIONS[slot].slot == slot for slot in FORM_SLOTS)
    for slot in FORM_SLOTS:
        if slot not in CUSTOM_QUESTIONS:
            assert texts.text(BY_SLOT[slot].prompt), slot
    for field in FIELDS:
        assert field.slot in domain["slots"], field.slot


def test_the_validators_ask_every_question_and_rasa_has_no_way_to_ask_twice(domain):
    """Each form's validator asks its questions (actions/asking.py); an ask action or an
    utter_ask_ response in the domain would make Rasa's form ask a second time."""
    assert set(LOOKUP_QUESTIONS) == set(domain["forms"]["status_form"]["required_slots"])
    names = [next(iter(a)) if isinstance(a, dict) else a for a in domain["actions"]]
    for form in domain["forms"]:
        assert f"validate_{form}" in names
        for slot in domain["forms"][form]["required_slots"]:
            for way in (f"action_ask_{slot}", f"action_ask_{form}_{slot}", f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"):
                assert way not in names and way not in domain.get("responses", {}), way


def test_every_api_field_comes_from_one_slot_and_every_label_is_unique():
    assert len(BY_API) == len([f for f in FIELDS if f.api])
    labels = [f.label for f in FIELDS]
    assert len(labels) == len(set(labels))


# --- every outcome of the form is accepted by the API ------------------------------------------


def resident_id(birth: date, region: str, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


documents = st.one_of(
    st.builds(
        resident_id,
        st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
        st.sampled_from(["330106", "110105", "810000", "440305"]),
        st.integers(0, 999),
    ),
    st.builds(lambda l, n: f"回乡证 {l}{n:08d}", st.sampled_from("HM"), st.integers(0, 10**8 - 1)),
    st.builds(lambda n: f"台胞证 {n:08d}", st.integers(0, 10**8 - 1)),
    st.builds(lambda n: f"护照 E{n:08d}", st.integers(0, 10**8 - 1)),
    st.just("不想提供"),
)
phones = st.one_of(
    st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1)),
    st.builds(lambda n: f"0571-{n}", st.integers(2_000_000, 89_999_999)),
    st.just("手机座机都没有"),
)


def answers() -> st.SearchStrategy[dict[str, Any]]:
    """Raw answers as citizens type them, one per question."""
    subdivisions = [s.name for s in load_jurisdiction().subdivisions]
    return st.fixed_dictionaries(
        {
            "pi_consent": st.just("同意"),
            "petitioner_name": st.one_of(cjk_text(2, 20), st.just("买买提·艾力"), st.just("John Smith")),
            "id_consent": st.sampled_from(["同意", "不同意"]),
            "id_number": documents,
            "phone": phones,
            "address": cjk_text(3, 190).map(lambda t: f"西湖区{t}号"),
            "place": st.one_of(st.sampled_from(subdivisions), st.just("余杭区良渚街道")),
            "category": st.sampled_from(category_names()),
            "respondent": st.one_of(st.just("无"), cjk_text(1, 200)),
            "facts": cjk_text(10, 2000),
            "request": cjk_text(4, 1000),
            "is_first": st.sampled_from(["第一次", "之前反映过"]),
            "prior_body": cjk_text(2, 200),
            "prior_case_no": st.one_of(st.just("不记得"), st.just("XF2025000123"), st.just("12345工单88号")),
            "review_stage": st.sampled_from(list(REVIEW_STAGES)),
            "recheck_same_matter": st.sampled_from(["是同一件事", "有新的事实"]),
            "register_anyway": st.just("仍要登记"),
            "new_facts": cjk_text(10, 2000),
            "group_size": st.one_of(st.integers(1, 100000), st.just("二十多人"), st.just("就我一个")),
        }
    )


def run_form(raw: dict[str, Any]) -> dict[str, Any]:
    """The slots the form ends with, each answer passed through its check in the order asked
    (a question already filled by an earlier answer is not asked)."""
    slots: dict[str, Any] = {}
    for slot in FORM_SLOTS:
        if slot == "summary_confirmed" or slots.get(slot) is not None:
            continue
        outcome = CHECKS[slot](raw[slot], slots)
        assume(outcome.ok)
        slots.update({k: v for k, v in outcome.updates.items() if k != "requested_slot"})
        if slots.get("intake_status") in ("barred", "declined", "guardian_declined"):
            assume(False)
    return slots


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(answers())
def test_every_outcome_of_the_form_is_accepted_by_the_api(raw):
    slots = run_form(raw)
    payload = case_payload(slots, "conv-contract", "web")
    try:
        intake = validate_case_request(payload)
    except ApiError as error:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the API refused what the form accepted: {error.extra} for {payload}")
    assert intake.name == slots["petitioner_name"]
    assert intake.is_repeat is (slots["is_first"] is False)
    if slots.get("register_anyway") is True:
        assert intake.prior_case.same_matter_after_recheck is True


# --- every refusal of the API leads back to a question -------------------------------------------

VALID = {
    "pi_consent": True, "petitioner_name": "张建国", "id_consent": True, "id_type": "resident_id",
    "id_number": "11010519491231002X", "guardian_consent": NOT_APPLICABLE, "contact_type": "mobile",
    "phone": "13812345678", "address": "西湖区文三路138号3幢2单元501室", "place": "文新街道",
    "category": "劳动和社会保障", "respondent": "某某劳务公司", "facts": "在工地干了半年，老板一直拖欠工资不给。",
    "request": "要求结清工资", "is_first": False, "prior_body": "今年8月向文新街道反映过",
    "prior_case_no": "XF2025000123", "review_stage": "rechecked", "recheck_same_matter": "no",
    "register_anyway": NOT_APPLICABLE, "new_facts": "复核后又拖欠了两个月工资，有新的欠条为证",
    "group_size": 1.0,
}
BAD_VALUES: dict[str, Any] = {
    "petitioner.name": "1",
    "petitioner.id_type": "driving_licence",
    "petitioner.id_number": "110105194912310021",
    "petitioner.contact_type": "fax",
    "petitioner.phone": "123",
    "petitioner.address": "无",
    "location": "x" * 300,
    "category": "不存在的分类",
    "respondent": "x" * 300,
    "facts": "短",
    "request": "短",
    "is_repeat": "yes",
    "prior_case.body": "x" * 300,
    "prior_case.case_no": "x" * 100,
    "prior_case.review_stage": "final",
    "prior_case.same_matter_after_recheck": "maybe",
    "prior_case.new_facts": "短",
    "group_size": 0,
}


def test_every_api_field_has_a_bad_value_here():
    assert set(BAD_VALUES) == set(BY_API)


@pytest.mark.parametrize("path", sorted(BAD_VALUES))
def test_every_api_refusal_maps_back_to_a_question_the_form_asks(path):
    payload = case_payload(VALID, "conv-contract", "web")
    node = payload
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = BAD_VALUES[path]
    with pytest.raises(ApiError) as refused:
        validate_case_request(payload)
    fields = refused.value.extra["fields"]
    assert path in fields
    again = slots_to_ask_again(fields)
    assert again and set(again) <= set(FORM_SLOTS)


async def test_a_refusal_clears_the_refused_answer_and_keeps_the_others(domain):
    from actions.backoffice import BackOfficeError

    dispatcher = CollectingDispatcher()
    error = BackOfficeError(422, "validation_failed", body={"fields": {"petitioner.phone": "电话号码不对"}})
    events = slot_events(ActionCompletePetition.failed(dispatcher, error))
    assert events["phone"] is None and events["intake_status"] == "paused"
    assert "petitioner_name" not in events
    assert "电话号码不对" in dispatcher.messages[0]["text"]


def test_the_policy_answer_ranking_holds_every_answer_the_clarification_may_offer():
    """config.yml cuts the ResponseSelector's ranking (it is stored with every message);
    actions/clarify.py offers up to MAX_CHOICES answers from it."""
    from pathlib import Path

    import yaml

    from actions.clarify import MAX_CHOICES

    config = yaml.safe_load((Path(__file__).parents[2] / "config.yml").read_text(encoding="utf-8"))
    [selector] = [c for c in config["pipeline"] if c["name"].endswith("LinearResponseSelector")]
    assert selector["ranking_length"] >= MAX_CHOICES
