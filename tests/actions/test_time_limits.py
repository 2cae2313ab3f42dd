"""What the citizen is told about time limits after filing and when looking a case up, exactly
as 《信访工作条例》 sets them (DOMAIN.md §5), and the action server's start-up warning about the
holiday calendar."""

from __future__ import annotations

import importlib
import logging
from datetime import date, datetime
from pathlib import Path

import pytest

from actions.status import ActionLookupStatus
from bot.rules import deadlines
from bot.rules.deadlines import TZ
from tests.actions.conftest import texts_of
from tests.actions.test_submission import CONFIRMED, backoffice, complete, lookup  # noqa: F401

FILED_ON = datetime(2026, 11, 29, 10, 0, tzinfo=TZ)


async def test_the_confirmation_tells_both_steps_and_the_limits_with_their_articles(
    backoffice, clock, domain, dispatcher  # noqa: F811
):
    clock.now = FILED_ON
    await complete(domain, dispatcher, CONFIRMED, sender="citizen-limits")
    reply = texts_of(dispatcher)
    assert "是否受理" not in reply  # the 2005 wording
    # 第二十二条: registered and forwarded within 15 days; 第二十三条: the body's notice within 15
    # days of its own receipt, up to about 30 days in all
    assert "信访部门在2026年12月14日前登记，并转送、交办有权处理的机关（第二十二条）" in reply
    assert "自收到之日起15日内，书面告知您接收情况以及处理途径和程序（第二十三条）" in reply
    assert "两步合计最长约30日，也就是最迟在2026年12月29日前收到告知" in reply
    # 60 days for 第三十一条(六) matters only, extension at most 30 days with the reason
    assert "（第三十一条第（六）项），自受理之日起60日内办结" in reply
    assert "延长不超过30日，并告知您延期理由（第三十四条）" in reply
    assert "依照该程序自身的期限办理" in reply
    # 复查 from receiving the written reply, to the body one level up
    assert "自收到书面答复之日起30日内，向原办理机关的上一级机关请求复查（第三十五条）" in reply
    assert "顺延至其后的第一个工作日" in reply


async def test_a_litigation_matter_is_told_its_own_procedure_instead_of_60_days(
    backoffice, clock, domain, dispatcher  # noqa: F811
):
    clock.now = FILED_ON
    slots = {**CONFIRMED, "facts": "法院判决后老板还是不给工资，已经拖了一年。", "submission_key": "l" * 32}
    await complete(domain, dispatcher, slots, sender="citizen-court")
    reply = texts_of(dispatcher)
    assert "信访件编号" in reply
    assert "不适用第三十四条60日的办结期限（第二十二条、第三十一条）" in reply
    assert "60日内办结" not in reply
    assert "第二十二条" in reply and "第二十三条" in reply and "第三十五条" in reply


async def test_the_lookup_of_a_new_case_tells_both_steps(backoffice, clock, domain, dispatcher):  # noqa: F811
    from rasa_sdk.executor import CollectingDispatcher

    clock.now = FILED_ON
    filed = await complete(domain, CollectingDispatcher(), {**CONFIRMED, "submission_key": "s" * 32}, "citizen-steps")
    await lookup(domain, dispatcher, filed["case_no"], filed["query_code"])
    reply = texts_of(dispatcher)
    assert "信访部门在2026年12月14日前登记，并转送、交办有权处理的机关（第二十二条）" in reply
    assert "书面告知您接收情况以及处理途径和程序（第二十三条），两步合计最迟约在2026年12月29日前" in reply
    assert "自受理之日起60日内办结" in reply and "第三十四条" in reply


def status(state: str, **deadline_values) -> dict:
    values = {
        "forwarding_due": "2026-12-14",
        "receipt_notice_due_latest": "2026-12-29",
        "handling_procedure": "article_34",
        "handling_channel": None,
        **deadline_values,
    }
    return {
        "case_no": "XF2026000001", "status": state, "status_label": "状态", "created_at": None,
        "responsible_unit": "西湖区人力资源和社会保障局", "next_deadline": None, "deadlines": values,
    }


@pytest.mark.parametrize(
    ("case", "present", "absent"),
    [
        (
            {**status("accepted"), "next_deadline": {"label": "办结并书面答复", "article": "第三十四条", "date": "2027-01-28"}},
            ("下一个时间节点：2027年1月28日前办结并书面答复（《信访工作条例》第三十四条）", "延长不超过30日"),
            ("两步",),
        ),
        (
            status("accepted", handling_procedure="own_procedure"),
            ("依照该程序自身的期限办理，不适用《信访工作条例》第三十四条60日的办结期限（第三十一条）",),
            ("60日内办结", "下一个时间节点"),
        ),
        (
            status("not_accepted", handling_procedure="own_procedure", handling_channel="行政复议机关（行政复议）"),
            ("已引导通过「行政复议机关（行政复议）」依法解决", "不适用《信访工作条例》第三十四条60日"),
            ("60日内办结",),
        ),
        (
            status("replied", reply_delivered_on="2026-03-07", review_request_due="2026-04-07"),
            ("自收到书面答复之日起30日内向原办理机关的上一级机关请求复查（《信访工作条例》第三十五条）",
             "书面答复于2026年3月7日送达，期限至2026年4月7日"),
            ("60日",),
        ),
        (
            status("replied", reply_delivered_on=None, review_request_due=None),
            ("自收到书面答复之日起30日内", "第三十五条", "顺延至其后的第一个工作日"),
            ("期限至",),
        ),
        (
            status("reviewed", review_opinion_delivered_on="2026-09-05", recheck_request_due="2026-10-08"),
            ("自收到复查意见之日起30日内向复查机关的上一级机关请求复核（《信访工作条例》第三十六条）",
             "复查意见于2026年9月5日送达，期限至2026年10月8日"),
            (),
        ),
    ],
)
def test_the_lookup_text_per_status(case: dict, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    text = ActionLookupStatus.status_text(case)
    assert [p for p in present if p not in text] == []
    assert [a for a in absent if a in text] == []


def test_the_action_server_warns_at_start_up_until_the_year_is_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import actions

    empty = tmp_path / "holidays.yml"
    empty.write_text("years: {}\n", encoding="utf-8")
    monkeypatch.setenv("HOLIDAYS_FILE", str(empty))
    monkeypatch.setattr(deadlines, "today_local", lambda: date(2026, 11, 29))
    caplog.set_level(logging.WARNING, logger="actions")
    importlib.reload(actions)  # what the action server runs when it loads the package
    [record] = [r for r in caplog.records if r.name == "actions"]
    assert record.levelno == logging.WARNING
    assert "HOLIDAY CALENDAR INCOMPLETE" in record.getMessage() and "2027" in record.getMessage()
    assert str(empty) in record.getMessage()

    caplog.clear()
    listed = tmp_path / "with-2027.yml"
    listed.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n", encoding="utf-8")  # test data
    monkeypatch.setenv("HOLIDAYS_FILE", str(listed))
    importlib.reload(actions)
    assert [r for r in caplog.records if r.name == "actions"] == []
