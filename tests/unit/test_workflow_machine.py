"""The case workflow as a state machine, without a database: who may take which step from
which status, the deadlines each step sets, the history note and the citizen's notification."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.rules import deadlines
from bot.rules.deadlines import EXTENSION_MAX_DAYS, TZ
from bot.rules.fields import REVIEW_STAGES
from bot.rules.roles import ADMIN, OFFICER, ROLE_PERMISSIONS, SUPERVISOR, Permission, Principal
from bot.rules.time_limits import deadline_rows, next_due
from bot.rules.workflow import (
    CHAT,
    RECHECK,
    REVIEW,
    TRANSITIONS,
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
    available,
    check,
    input_type,
    take,
)


def at(day: str, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock in Beijing."""
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=TZ)


def staff(role: str) -> Principal:
    return Principal(kind="staff", name=role, permissions=ROLE_PERMISSIONS[role], role=role)


def case(status: str = "registered", created: str = "2026-01-05", **values: Any) -> CaseSnapshot:
    return CaseSnapshot(status=status, created_at=at(created), responsible_unit="西湖区教育局", **values)


def after(snapshot: CaseSnapshot, outcome) -> CaseSnapshot:
    """The snapshot with the outcome's changes written (what the store does to the row)."""
    names = {f.name for f in dataclasses.fields(CaseSnapshot)}
    return dataclasses.replace(snapshot, **{k: v for k, v in outcome.changes.items() if k in names})


OFFICER_P, SUPERVISOR_P, ADMIN_P = staff(OFFICER), staff(SUPERVISOR), staff(ADMIN)

# --- the transitions table -----------------------------------------------------------------

# name: (from statuses, to status, permission, notifies, article)
EXPECTED = {
    "accept": ({"registered"}, "accepted", Permission.CASE_WORK, True, "第二十三条"),
    "not_accept": ({"registered"}, "not_accepted", Permission.CASE_WORK, True, "第二十二条、第三十一条"),
    "assign": ({"accepted", "assigned"}, "assigned", Permission.CASE_WORK, True, "第二十二条"),
    "objection": ({"assigned"}, "accepted", Permission.CASE_WORK, False, "第二十三条"),
    "extend": ({"accepted", "assigned"}, None, Permission.CASE_APPROVE, True, "第三十四条"),
    "reply": ({"assigned"}, "replied", Permission.CASE_WORK, True, "第三十四条"),
    "close": ({"replied", "reviewed", "rechecked"}, "closed", Permission.CASE_WORK, True, "第三十四条"),
    "review_request": ({"replied", "closed"}, "review_requested", Permission.CASE_WORK, True, "第三十五条"),
    "review_opinion": ({"review_requested"}, "reviewed", Permission.CASE_APPROVE, True, "第三十五条"),
    "recheck_request": ({"reviewed", "closed"}, "recheck_requested", Permission.CASE_WORK, True, "第三十六条"),
    "recheck_opinion": ({"recheck_requested"}, "rechecked", Permission.CASE_APPROVE, True, "第三十六条"),
    "reply_delivery": ({"replied", "closed"}, None, Permission.CASE_WORK, False, "第三十五条"),
    "review_opinion_delivery": ({"reviewed", "closed"}, None, Permission.CASE_WORK, False, "第三十六条"),
}
ALL_STATUSES = [
    "registered", "accepted", "not_accepted", "assigned", "replied", "closed",
    "review_requested", "reviewed", "recheck_requested", "rechecked",
]


def test_the_table_has_every_step_the_console_and_api_name() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)
    for name, (sources, target, permission, notify, article) in EXPECTED.items():
        t = TRANSITIONS[name]
        assert (set(t.from_statuses), t.to_status, t.permission, t.notify, t.article) == (
            sources, target, permission, notify, article,
        ), name


def ready(status: str) -> CaseSnapshot:
    """A case in ``status`` on which no step is blocked by what it already has (a reply and a
    复查 opinion to request against, no request yet, 60 days to extend)."""
    return case(
        status, accepted_at=at("2026-01-05"), handling_due=date(2026, 3, 6),
        replied_at=at("2026-02-01"), review_opinion_on=date(2026, 3, 1),
    )


@pytest.mark.parametrize("role", [OFFICER, SUPERVISOR, ADMIN])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_who_may_take_each_step_from_which_status(role: str, name: str) -> None:
    principal = staff(role)
    sources, _, permission, _, _ = EXPECTED[name]
    may = role != OFFICER or permission == Permission.CASE_WORK
    for status in ALL_STATUSES:
        if not may:
            with pytest.raises(PermissionError):
                check(name, ready(status), principal)
        elif status in sources:
            assert check(name, ready(status), principal).name == name
        else:
            with pytest.raises(WorkflowError) as refused:
                check(name, ready(status), principal)
            assert refused.value.conflict and "只能在以下状态进行" in refused.value.message


def test_officers_cannot_approve_but_supervisors_can() -> None:
    assigned = ready("assigned")
    assert [t.name for t in available(assigned, OFFICER_P)] == ["assign", "objection", "reply"]
    assert [t.name for t in available(assigned, SUPERVISOR_P)] == ["assign", "objection", "extend", "reply"]
    assert [t.name for t in available(assigned, ADMIN_P)] == ["assign", "objection", "extend", "reply"]
    requested = ready("review_requested")
    assert available(requested, OFFICER_P) == []
    assert [t.name for t in available(requested, SUPERVISOR_P)] == ["review_opinion"]
    assert [t.name for t in available(case(), OFFICER_P)] == ["accept", "not_accept"]
    assert available(case("not_accepted"), ADMIN_P) == []


def test_an_illegal_transition_is_refused_with_the_current_status() -> None:
    with pytest.raises(WorkflowError) as refused:
        take("reply", case(), ReplyInput("这是一份足够长的书面答复内容。"), principal=OFFICER_P,
             now=at("2026-01-06"))
    assert refused.value.conflict
    assert refused.value.message == "「书面答复」只能在以下状态进行：已交办责任单位；当前状态为「已登记，待受理」。"
    with pytest.raises(WorkflowError) as stale:
        check("accept", case("accepted"), OFFICER_P, expected_status="registered")
    assert stale.value.conflict and stale.value.message == "该信访件的状态已变为「已受理，正在办理」，请刷新页面后重试。"
    with pytest.raises(WorkflowError, match="未知的办理操作"):
        check("reopen", case(), ADMIN_P)
    with pytest.raises(PermissionError):
        take("review_opinion", ready("review_requested"), OpinionInput("复查意见正文足够长了吧。", date(2026, 3, 1)),
             principal=OFFICER_P, now=at("2026-03-02"))
    with pytest.raises(TypeError):
        take("accept", case(), {"note": "表单不是输入"}, principal=OFFICER_P, now=at("2026-01-06"))


def test_each_step_names_its_typed_input() -> None:
    assert input_type("accept") is NoteInput
    assert input_type("extend") is ExtendInput
    assert input_type("review_request") is input_type("recheck_request") is RequestInput
    assert input_type("review_opinion") is input_type("recheck_opinion") is OpinionInput
    assert input_type("reply_delivery") is input_type("review_opinion_delivery") is Delivery


# --- the deadlines each step sets ----------------------------------------------------------


def test_accept_sets_the_60_day_handling_limit_of_article_34() -> None:
    outcome = take("accept", case(), NoteInput(), principal=OFFICER_P, now=at("2026-01-05"))
    assert outcome.changes["handling_due"] == date(2026, 3, 6) == deadlines.handling_due(date(2026, 1, 5))
    assert outcome.changes["status"] == "accepted" and outcome.to_status == "accepted"
    assert outcome.note == "受理，办理期限至2026年3月6日"
    assert outcome.detail == {"handling_due": "2026-03-06", "late": False}
    assert outcome.notify == "accepted"


def test_accept_after_the_notice_period_is_recorded_as_late() -> None:
    outcome = take("accept", case(created="2026-01-01"), NoteInput("补充材料后受理"),
                   principal=OFFICER_P, now=at("2026-02-05"))
    assert outcome.note == "受理，办理期限至2026年4月6日（已超过2026年1月31日的告知期限）。备注：补充材料后受理"
    assert outcome.detail["late"] is True


def test_a_litigation_matter_is_accepted_without_the_60_days() -> None:
    outcome = take("accept", case(litigation=True), NoteInput(), principal=OFFICER_P, now=at("2026-01-05"))
    assert outcome.changes["handling_due"] is None
    assert outcome.note == "受理，涉法涉诉事项依照相应法定程序的期限办理"
    with pytest.raises(WorkflowError, match="不适用第三十四条的延期"):
        check("extend", after(case(litigation=True), outcome), SUPERVISOR_P)


def test_assign_opens_the_five_working_day_objection_period() -> None:
    accepted = case("accepted", accepted_at=at("2026-09-28"), handling_due=date(2026, 11, 27))
    outcome = take("assign", accepted, AssignInput("西湖区住房和城乡建设局", "请尽快核实"),
                   principal=OFFICER_P, now=at("2026-09-30"))
    # National Day holiday: the fifth working day after 30 September is 13 October.
    assert outcome.changes["objection_due"] == date(2026, 10, 13)
    assert outcome.changes["proposed_unit"] == "西湖区教育局"
    assert outcome.note == "交办西湖区住房和城乡建设局，异议期限至2026年10月13日（5个工作日）；原为西湖区教育局。说明：请尽快核实"
    assigned = after(accepted, outcome)
    with pytest.raises(WorkflowError, match="异议期限已于2026年10月13日届满"):
        take("objection", assigned, NoteInput("不属于本单位职责"), principal=OFFICER_P, now=at("2026-10-14"))
    back = take("objection", assigned, NoteInput("不属于本单位职责"), principal=OFFICER_P, now=at("2026-10-13"))
    assert back.to_status == "accepted" and back.changes["objection_due"] is None
    assert back.notify is None  # the citizen is told of the new assignment, not of the objection


def test_extension_moves_the_handling_limit_within_30_days() -> None:
    accepted = case("assigned", accepted_at=at("2026-01-05"), handling_due=date(2026, 3, 6))
    outcome = take("extend", accepted, ExtendInput(10, "需补充调查"), principal=SUPERVISOR_P,
                   now=at("2026-02-20"))
    assert outcome.changes["handling_due"] == date(2026, 3, 16)
    assert outcome.changes["extension_days"] == 10 and "status" not in outcome.changes
    assert outcome.note == "经负责人批准延长办理期限10日，新期限2026年3月16日。理由：需补充调查"
    assert outcome.notify == "extended"
    extended = after(accepted, outcome)
    with pytest.raises(WorkflowError) as too_many:
        take("extend", extended, ExtendInput(21, "还需调查"), principal=SUPERVISOR_P, now=at("2026-02-21"))
    assert too_many.value.message == "延长天数应在1至20日之间（第三十四条：延长期限合计不超过30日）。"
    full = take("extend", extended, ExtendInput(20, "还需调查"), principal=SUPERVISOR_P, now=at("2026-02-21"))
    assert full.changes["extension_days"] == EXTENSION_MAX_DAYS
    assert full.changes["handling_due"] == date(2026, 4, 5)
    at_max = after(extended, full)
    assert "extend" not in [t.name for t in available(at_max, SUPERVISOR_P)]
    with pytest.raises(WorkflowError, match="最多延长30日"):
        check("extend", at_max, SUPERVISOR_P)


def test_extension_after_the_handling_limit_is_refused() -> None:
    late = case("assigned", accepted_at=at("2026-01-05"), handling_due=date(2026, 3, 6))
    with pytest.raises(WorkflowError, match="办理期限已于2026年3月6日届满，应在期限内批准延期"):
        take("extend", late, ExtendInput(10, "需补充调查"), principal=SUPERVISOR_P, now=at("2026-03-07"))


def test_a_reply_shown_in_the_chat_leaves_the_review_window_to_its_delivery() -> None:
    assigned = case("assigned", accepted_at=at("2026-01-05"), handling_due=date(2026, 3, 6))
    outcome = take("reply", assigned, ReplyInput("经调查，现答复如下：已责令整改。"), principal=OFFICER_P,
                   now=at("2026-03-07"))
    assert outcome.changes["reply_delivered_on"] is None and outcome.changes["review_request_due"] is None
    assert outcome.note == (
        "书面答复（在线对话中送达，信访人在对话中看到之日为送达日），复查请求期限自送达之日起算"
        "（已超过2026年3月6日的办理期限）"
    )
    assert outcome.detail == {"late": True, "delivery_method": CHAT, "review_request_due": None}
    assert outcome.notify == "replied"


def test_a_reply_delivered_by_post_opens_the_review_window() -> None:
    assigned = case("assigned", accepted_at=at("2026-01-05"), handling_due=date(2026, 3, 6))
    outcome = take("reply", assigned, ReplyInput("经调查，现答复如下：已责令整改。", Delivery("post", date(2026, 3, 7))),
                   principal=OFFICER_P, now=at("2026-03-07"))
    # 30 days end on 6 April (清明): the window runs to the next working day.
    assert outcome.changes["review_request_due"] == date(2026, 4, 7)
    assert outcome.note.startswith("书面答复（邮寄送达，2026年3月7日送达），复查请求期限至2026年4月7日")
    with pytest.raises(WorkflowError, match="送达日期不能早于2026年1月5日"):
        take("reply", assigned, ReplyInput("经调查，现答复如下：已责令整改。", Delivery("post", date(2026, 1, 4))),
             principal=OFFICER_P, now=at("2026-03-07"))


def test_a_review_request_after_the_30_days_from_delivery_is_late() -> None:
    replied = case("replied", replied_at=at("2026-03-07"), reply_delivered_on=date(2026, 3, 7),
                   review_request_due=date(2026, 4, 7))
    with pytest.raises(WorkflowError) as late:
        take("review_request", replied, RequestInput(date(2026, 4, 8)), principal=OFFICER_P, now=at("2026-04-20"))
    assert late.value.message == (
        "复查请求应在收到书面答复之日起30日内提出（第三十五条）。"
        "书面答复于2026年3月7日送达，期限已于2026年4月7日届满。"
    )
    assert not late.value.conflict
    outcome = take("review_request", replied, RequestInput(date(2026, 4, 7)), principal=OFFICER_P,
                   now=at("2026-04-20"))
    assert outcome.changes["review_opinion_due"] == date(2026, 5, 7)
    assert outcome.to_status == "review_requested"


def test_a_request_before_the_document_was_delivered_is_never_late() -> None:
    closed = case("closed", replied_at=at("2026-03-07"))
    outcome = take("review_request", closed, RequestInput(date(2026, 9, 1)), principal=OFFICER_P,
                   now=at("2026-09-02"))
    assert outcome.changes == {
        "review_requested_on": date(2026, 9, 1), "review_opinion_due": date(2026, 10, 1),
        "closed_at": None, "status": "review_requested",
    }


# --- 复查 and 复核: one step for both stages ---------------------------------------------------

REVIEWED = dict(replied_at=at("2026-03-07"), reply_delivered_on=date(2026, 3, 7),
                review_request_due=date(2026, 4, 7), review_requested_on=date(2026, 3, 20),
                review_opinion_due=date(2026, 4, 19), review_opinion_on=date(2026, 4, 10),
                review_opinion_delivered_on=date(2026, 4, 10), recheck_request_due=date(2026, 5, 11))


@pytest.mark.parametrize(
    ("name", "status", "values", "received", "expected_changes", "note", "kind"),
    [
        (
            "review_request", "replied",
            dict(replied_at=at("2026-03-07"), reply_delivered_on=date(2026, 3, 7), review_request_due=date(2026, 4, 7)),
            date(2026, 3, 20),
            {"review_requested_on": date(2026, 3, 20), "review_opinion_due": date(2026, 4, 19),
             "closed_at": None, "status": "review_requested"},
            "收到复查请求（2026年3月20日），复查意见期限至2026年4月19日。备注：电话反映",
            "review_requested",
        ),
        (
            "recheck_request", "reviewed", REVIEWED, date(2026, 4, 20),
            {"recheck_requested_on": date(2026, 4, 20), "recheck_opinion_due": date(2026, 5, 20),
             "closed_at": None, "status": "recheck_requested"},
            "收到复核请求（2026年4月20日），复核意见期限至2026年5月20日。备注：电话反映",
            "recheck_requested",
        ),
    ],
)
def test_a_request_of_either_stage(name, status, values, received, expected_changes, note, kind) -> None:
    outcome = take(name, case(status, **values), RequestInput(received, "电话反映"), principal=OFFICER_P,
                   now=at("2026-04-21"))
    assert outcome.changes == expected_changes
    assert outcome.note == note
    assert outcome.detail == {"received_on": received.isoformat()}
    assert outcome.notify == kind


@pytest.mark.parametrize(
    ("name", "status", "values", "already", "early", "message_early", "message_already"),
    [
        ("review_request", "replied", dict(replied_at=at("2026-03-07")), {"review_requested_on": date(2026, 3, 20)},
         date(2026, 3, 6), "收到复查请求的日期不能早于书面答复日期。", "该信访件已登记过复查请求。"),
        ("recheck_request", "reviewed", REVIEWED, {"recheck_requested_on": date(2026, 4, 20)},
         date(2026, 4, 9), "收到复核请求的日期不能早于复查意见的日期。", "该信访件已登记过复核请求。"),
    ],
)
def test_requests_of_either_stage_are_refused_alike(name, status, values, already, early, message_early,
                                                    message_already) -> None:
    open_case = case(status, **values)
    with pytest.raises(WorkflowError) as too_early:
        take(name, open_case, RequestInput(early), principal=OFFICER_P, now=at("2026-04-21"))
    assert too_early.value.message == message_early and not too_early.value.conflict
    twice = dataclasses.replace(open_case, **already)
    with pytest.raises(WorkflowError) as again:
        check(name, twice, OFFICER_P)
    assert again.value.message == message_already and again.value.conflict
    assert name not in [t.name for t in available(twice, OFFICER_P)]


def test_a_recheck_request_needs_a_review_opinion_first() -> None:
    closed = case("closed", replied_at=at("2026-03-07"))
    with pytest.raises(WorkflowError) as refused:
        check("recheck_request", closed, OFFICER_P)
    assert refused.value.message == "复核请求须在复查意见之后提出（第三十六条）。" and refused.value.conflict


def test_the_review_opinion_opens_the_recheck_window_and_the_recheck_opinion_ends_it() -> None:
    review_requested = case("review_requested", replied_at=at("2026-03-07"), review_requested_on=date(2026, 3, 20),
                            review_opinion_due=date(2026, 4, 19))
    review = take("review_opinion", review_requested,
                  OpinionInput("经复查，维持原处理意见。", date(2026, 4, 10), Delivery("post", date(2026, 4, 12))),
                  principal=SUPERVISOR_P, now=at("2026-04-13"))
    assert review.changes == {
        "review_opinion": "经复查，维持原处理意见。", "review_opinion_on": date(2026, 4, 10),
        "review_opinion_delivered_on": date(2026, 4, 12), "recheck_request_due": date(2026, 5, 12),
        "status": "reviewed",
    }
    assert review.note == "出具复查意见（2026年4月10日；邮寄送达，2026年4月12日送达），复核请求期限至2026年5月12日"
    assert review.detail == {"late": False, "delivery_method": "post"}
    assert review.notify == "reviewed"

    recheck_requested = case("recheck_requested", **REVIEWED, recheck_requested_on=date(2026, 4, 20),
                             recheck_opinion_due=date(2026, 5, 20))
    recheck = take("recheck_opinion", recheck_requested, OpinionInput("经复核，维持复查意见。", date(2026, 5, 25)),
                   principal=SUPERVISOR_P, now=at("2026-05-25"))
    assert recheck.changes == {
        "recheck_opinion": "经复核，维持复查意见。", "recheck_opinion_on": date(2026, 5, 25), "status": "rechecked",
    }
    assert recheck.note == "出具复核意见（2026年5月25日）；同一事实和理由不再受理（第三十六条）"
    assert recheck.detail == {"late": True}
    assert recheck.notify == "rechecked"
    with pytest.raises(WorkflowError, match="复核意见的日期不能早于收到复核请求的日期"):
        take("recheck_opinion", recheck_requested, OpinionInput("经复核，维持复查意见。", date(2026, 4, 19)),
             principal=SUPERVISOR_P, now=at("2026-05-25"))
    with pytest.raises(WorkflowError, match="复查意见的日期不能早于收到复查请求的日期"):
        take("review_opinion", review_requested, OpinionInput("经复查，维持原处理意见。", date(2026, 3, 19)),
             principal=SUPERVISOR_P, now=at("2026-04-13"))


@pytest.mark.parametrize(
    ("name", "status", "values", "on", "changes", "note", "missing", "requested"),
    [
        ("reply_delivery", "replied", dict(replied_at=at("2026-03-07")), date(2026, 3, 10),
         {"reply_delivered_on": date(2026, 3, 10), "review_request_due": date(2026, 4, 9)},
         "书面答复送达（邮寄送达，2026年3月10日送达），复查请求期限至2026年4月9日",
         {"replied_at": None}, ("review_requested_on", "已登记复查请求，无需再登记送达。")),
        ("review_opinion_delivery", "reviewed", dict(replied_at=at("2026-03-07"), review_opinion_on=date(2026, 4, 10)),
         date(2026, 4, 12),
         {"review_opinion_delivered_on": date(2026, 4, 12), "recheck_request_due": date(2026, 5, 12)},
         "复查意见送达（邮寄送达，2026年4月12日送达），复核请求期限至2026年5月12日",
         {"review_opinion_on": None}, ("recheck_requested_on", "已登记复核请求，无需再登记送达。")),
    ],
)
def test_recording_the_delivery_of_either_document(name, status, values, on, changes, note, missing,
                                                   requested) -> None:
    open_case = case(status, **values)
    outcome = take(name, open_case, Delivery("post", on), principal=OFFICER_P, now=at("2026-04-20"))
    assert outcome.changes == changes and outcome.note == note and outcome.notify is None
    due_key = next(k for k in changes if k.endswith("_request_due"))
    assert outcome.detail == {"delivery_method": "post", "delivered_on": on.isoformat(),
                              due_key: changes[due_key].isoformat()}
    with pytest.raises(WorkflowError) as none_yet:
        check(name, dataclasses.replace(open_case, **missing), OFFICER_P)
    assert none_yet.value.conflict and none_yet.value.message.startswith("尚未登记")
    column, message = requested
    with pytest.raises(WorkflowError) as too_late:
        check(name, dataclasses.replace(open_case, **{column: date(2026, 4, 15)}), OFFICER_P)
    assert too_late.value.message == message and too_late.value.conflict


def test_the_stages_name_their_own_columns() -> None:
    assert (REVIEW.requested_on, REVIEW.opinion_due, REVIEW.request_due) == (
        "review_requested_on", "review_opinion_due", "review_request_due")
    assert (RECHECK.requested_on, RECHECK.opinion_due, RECHECK.request_due) == (
        "recheck_requested_on", "recheck_opinion_due", "recheck_request_due")
    assert REVIEW.opens is RECHECK and RECHECK.opens is None
    # the statuses after the opinions are the intake's names of an earlier petition's stage
    assert (REVIEW.done, RECHECK.done) == ("reviewed", "rechecked")
    assert {REVIEW.done, RECHECK.done} <= set(REVIEW_STAGES)
    for name in ("review_request", "review_opinion", "reply_delivery"):
        assert TRANSITIONS[name].stage is REVIEW
    for name in ("recheck_request", "recheck_opinion", "review_opinion_delivery"):
        assert TRANSITIONS[name].stage is RECHECK


# --- the whole path ----------------------------------------------------------------------------


def test_from_registration_to_recheck_the_citizen_is_told_each_step() -> None:
    steps = [
        ("accept", NoteInput(), OFFICER_P, "2026-01-05"),
        ("assign", AssignInput("西湖区住房和城乡建设局"), OFFICER_P, "2026-01-06"),
        ("objection", NoteInput("不属于本单位职责"), OFFICER_P, "2026-01-07"),
        ("assign", AssignInput("西湖区教育局"), OFFICER_P, "2026-01-08"),
        ("extend", ExtendInput(5, "需补充调查"), SUPERVISOR_P, "2026-02-01"),
        ("reply", ReplyInput("经调查，现答复如下：已责令整改。"), OFFICER_P, "2026-03-01"),
        ("reply_delivery", Delivery("post", date(2026, 3, 3)), OFFICER_P, "2026-03-04"),
        ("close", NoteInput(), OFFICER_P, "2026-03-05"),
        ("review_request", RequestInput(date(2026, 3, 20)), OFFICER_P, "2026-03-20"),
        ("review_opinion", OpinionInput("经复查，维持原处理意见。", date(2026, 4, 10)), SUPERVISOR_P, "2026-04-10"),
        ("review_opinion_delivery", Delivery("in_person", date(2026, 4, 11)), OFFICER_P, "2026-04-11"),
        ("recheck_request", RequestInput(date(2026, 4, 20)), OFFICER_P, "2026-04-20"),
        ("recheck_opinion", OpinionInput("经复核，维持复查意见。", date(2026, 5, 6)), SUPERVISOR_P, "2026-05-06"),
        ("close", NoteInput("复核完毕"), OFFICER_P, "2026-05-07"),
    ]
    state, statuses, kinds = case(), [], []
    for name, inputs, who, day in steps:
        outcome = take(name, state, inputs, principal=who, now=at(day), expected_status=state.status)
        state = after(state, outcome)
        statuses.append(state.status)
        kinds.append(outcome.notify)
    assert statuses == [
        "accepted", "assigned", "accepted", "assigned", "assigned", "replied", "replied", "closed",
        "review_requested", "reviewed", "reviewed", "recheck_requested", "rechecked", "closed",
    ]
    assert kinds == [
        "accepted", "assigned", None, "assigned", "extended", "replied", None, "closed",
        "review_requested", "reviewed", None, "recheck_requested", "rechecked", "closed",
    ]
    assert state.handling_due == date(2026, 3, 11)  # 60 + 5 days after 5 January
    assert state.review_request_due == date(2026, 4, 2)
    assert state.recheck_request_due == date(2026, 5, 11)
    assert available(state, ADMIN_P) == []  # closed after 复核: nothing left to request


# --- what the console shows of the time limits -------------------------------------------------


def test_next_due_counts_the_days_left() -> None:
    owed = ("办结并书面答复", "第三十四条", date(2026, 3, 6))
    assert next_due(owed, date(2026, 3, 7), 3).state == "overdue"
    assert next_due(owed, date(2026, 3, 7), 3).days_left == -1
    assert next_due(owed, date(2026, 3, 3), 3).state == "due_soon"
    assert next_due(owed, date(2026, 3, 2), 3).state == "ok"
    assert next_due(None, date(2026, 3, 2), 3) is None


def test_deadline_rows_show_the_extension_and_the_waiting_review_window() -> None:
    replied = case("replied", acceptance_notice_due=date(2026, 1, 20), accepted_at=at("2026-01-05"),
                   assigned_at=at("2026-01-06"), handling_due=date(2026, 3, 16), extension_days=10,
                   replied_at=at("2026-03-01"))
    rows = {r.label: r for r in deadline_rows(replied, date(2026, 3, 2), 3)}
    handling = rows["办结并书面答复"]
    assert handling.rule == "受理之日起60日（第三十一条第（六）项事项），经批准延长10日"
    assert (handling.due, handling.done_on, handling.state) == (date(2026, 3, 16), date(2026, 3, 1), "done")
    review = rows["信访人请求复查"]
    assert (review.due, review.state, review.due_text, review.owed_by_agency) == (None, "waiting", "待送达后起算", False)


# --- purity ----------------------------------------------------------------------------------


def test_the_machine_needs_no_database_or_web_layer() -> None:
    code = (
        "import sys, bot.rules.workflow, bot.rules.time_limits; "
        "print(sorted({m.split('.')[0] if not m.startswith('bot.') else '.'.join(m.split('.')[:2]) "
        "for m in sys.modules if m.startswith(('sqlalchemy', 'aiohttp', 'bot.store', 'bot.web', 'bot.console'))}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"
