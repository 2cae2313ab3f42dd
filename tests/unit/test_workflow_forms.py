"""The case page's workflow forms read into the workflow's typed inputs, with the messages
staff see for a missing or malformed field."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.console.workflow_forms import known_units, read
from bot.rules.workflow import (
    CHAT,
    AssignInput,
    CaseSnapshot,
    Delivery,
    ExtendInput,
    NoteInput,
    NotAcceptInput,
    OpinionInput,
    ReplyInput,
    RequestInput,
    WorkflowError,
)

TODAY = date(2026, 4, 20)
CASE = CaseSnapshot(
    status="assigned", created_at=datetime(2026, 1, 5, 2, tzinfo=timezone.utc), extension_days=20,
    replied_at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc), reply_delivered_on=date(2026, 3, 2),
    review_request_due=date(2026, 4, 1), review_requested_on=date(2026, 3, 20),
    review_opinion_on=date(2026, 4, 1),
)


@pytest.mark.parametrize(
    ("action", "form", "expected"),
    [
        ("accept", {}, NoteInput(None)),
        ("close", {"note": "  已回访  "}, NoteInput("已回访")),
        ("objection", {"note": "不属于本单位职责"}, NoteInput("不属于本单位职责")),
        ("not_accept", {"reason": "已进入诉讼程序", "referred_to": "公安机关"},
         NotAcceptInput("已进入诉讼程序", "公安机关")),
        ("not_accept", {"reason": "已进入诉讼程序", "referred_to": "other", "referred_to_other": "仲裁委"},
         NotAcceptInput("已进入诉讼程序", "仲裁委")),
        ("assign", {"unit": "other", "unit_other": "西湖区司法局", "note": "请核实"}, AssignInput("西湖区司法局", "请核实")),
        ("extend", {"days": " 10 ", "reason": "需补充调查"}, ExtendInput(10, "需补充调查")),  # the 10 days left
        ("reply", {"reply": "经调查，现答复如下：已责令整改。"}, ReplyInput("经调查，现答复如下：已责令整改。", Delivery(CHAT, None))),
        ("reply", {"reply": "经调查，现答复如下：已责令整改。", "delivery_method": "post", "delivered_on": "2026-04-18"},
         ReplyInput("经调查，现答复如下：已责令整改。", Delivery("post", date(2026, 4, 18)))),
        ("review_request", {"received_on": "2026-03-30", "note": "电话反映"}, RequestInput(date(2026, 3, 30), "电话反映")),
        ("recheck_request", {"received_on": "2026-04-19", "note": "电话反映"}, RequestInput(date(2026, 4, 19), "电话反映")),
        ("review_opinion", {"opinion": "经复查，维持原处理意见。", "given_on": "2026-04-10"},
         OpinionInput("经复查，维持原处理意见。", date(2026, 4, 10), Delivery(CHAT, None))),
        # the 复核 opinion opens no window: delivery fields are not read
        ("recheck_opinion", {"opinion": "经复核，维持复查意见。", "delivery_method": "fax"},
         OpinionInput("经复核，维持复查意见。", TODAY)),
        ("reply_delivery", {"delivery_method": "in_person", "delivered_on": "2026-04-01"},
         Delivery("in_person", date(2026, 4, 1))),
    ],
)
def test_forms_become_typed_inputs(action: str, form: dict[str, str], expected: object) -> None:
    assert read(action, form, TODAY, CASE) == expected


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("not_accept", {"reason": "", "referred_to": "公安机关"}, "请填写不予受理的理由。"),
        ("not_accept", {"reason": "诉讼", "referred_to": "公安机关"}, "不予受理的理由至少需要4个字。"),
        ("not_accept", {"reason": "已进入诉讼程序", "referred_to": "other"}, "请选择或填写引导信访人前往的渠道（诉访分离）。"),
        ("assign", {"unit": "other"}, "请选择或填写责任单位。"),
        ("assign", {"unit": "局" * 129}, "责任单位名称不能超过128个字。"),
        ("objection", {}, "请填写异议理由。"),
        ("extend", {"days": "十", "reason": "需补充调查"}, "请填写延长的天数（整数）。"),
        ("reply", {"reply": "太短了"}, "书面答复至少需要10个字。"),
        ("reply", {"reply": "答" * 5001}, "书面答复不能超过5000个字。"),
        ("reply", {"reply": "经调查，现答复如下：已责令整改。", "delivery_method": "fax"}, "请选择送达方式。"),
        ("accept", {"note": "备" * 2001}, "备注不能超过2000个字。"),
        ("review_request", {"received_on": "2026/04/01"}, "收到复查请求的日期的格式不正确，应为 年-月-日，例如 2026-04-20。"),
        ("recheck_request", {"received_on": "2026-04-21"}, "收到复核请求的日期不能晚于今天。"),
        ("recheck_opinion", {"opinion": ""}, "请填写复核意见。"),
        ("review_opinion", {"opinion": "经复查，维持原处理意见。", "given_on": "2026-05-01"}, "复查意见的日期不能晚于今天。"),
        ("review_opinion_delivery", {"delivery_method": "post"}, "请填写送达日期（信访人收到之日）。"),
        ("reply_delivery", {"delivered_on": "2026-04-21"}, "送达日期不能晚于今天。"),
        ("reopen", {}, "未知的办理操作。"),
    ],
)
def test_a_missing_or_malformed_field_is_named(action: str, form: dict[str, str], message: str) -> None:
    with pytest.raises(WorkflowError) as refused:
        read(action, form, TODAY, CASE)
    assert refused.value.message == message and not refused.value.conflict


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("extend", {"days": "11", "reason": "再延期"}, "延长天数应在1至10日之间（第三十四条：延长期限合计不超过30日）。"),
        ("review_request", {"received_on": "2026-04-02", "note": "备" * 2001},
         "复查请求应在收到书面答复之日起30日内提出（第三十五条）。书面答复于2026年3月2日送达，期限已于2026年4月1日届满。"),
        ("review_request", {"received_on": "2026-02-28"}, "收到复查请求的日期不能早于书面答复日期。"),
        ("recheck_request", {"received_on": "2026-03-31"}, "收到复核请求的日期不能早于复查意见的日期。"),
        ("review_opinion", {"opinion": "经复查，维持原处理意见。", "given_on": "2026-03-19", "delivery_method": "fax"},
         "复查意见的日期不能早于收到复查请求的日期。"),
    ],
)
def test_a_field_out_of_range_for_the_case_is_told_in_the_order_of_the_form(action, form, message) -> None:
    """The first problem of the form is the one shown, even when a later field is wrong too."""
    with pytest.raises(WorkflowError) as refused:
        read(action, form, TODAY, CASE)
    assert refused.value.message == message


def test_known_units_come_from_the_routing_table_without_repeats() -> None:
    units = known_units()
    assert "西湖区教育局" in units  # the education category's unit (bot/config/jurisdiction.yml)
    assert len(units) == len(set(units)) and all(units)
