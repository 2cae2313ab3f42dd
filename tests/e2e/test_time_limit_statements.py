"""Every time limit the assistant states, end to end through the REST channel, checked against
《信访工作条例》 (DOMAIN.md §5): one row per statement, with the figures and article numbers the
citizen must read — and the 2005 wording ("是否受理") they must not.

- 第二十二条: the 信访部门 registers and forwards or assigns within 15 days;
- 第二十三条: the body with the matter notifies receipt and how it will be handled, on the spot
  or within 15 days of its own receipt: up to about 30 days in all for an online petition;
- 第三十四条: 60 days from acceptance for 第三十一条(六) matters, extension at most 30 days with
  the reason told; other procedures keep their own limits;
- 第三十五条、第三十六条: 复查/复核 within 30 days of receiving the written reply / opinion, to the
  body one level up, a window ending on a day off running to the next working day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from bot.rules.deadlines import TZ
from tests.support.chat import Chat
from tests.support.citizens import new_identity
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

OLD_WORDING = "是否受理"

# (question as a citizen asks it, fragments the answer must contain)
STATEMENTS = [
    pytest.param(
        "提交以后几天会告诉我受不受理",
        ("第二十三条", "当场", "15日内", "接收情况以及处理途径和程序", "姓名、住址不清的除外",
         "第二十二条", "合计最长约30日"),
        id="acceptance-notice",
    ),
    pytest.param(
        "信访事项多少天内要办结",
        ("第二十二条", "15日内登记", "第二十三条", "接收情况以及处理途径和程序", "约30日",
         "第三十一条第（六）项", "60日内办结", "延长不超过30日", "延期理由", "第三十四条",
         "依照该程序自身的期限办理", "第三十五条"),
        id="time-limits",
    ),
    pytest.param(
        "办理期限能延长吗",
        ("第三十四条", "第三十一条第（六）项", "自受理之日起60日内办结", "负责人批准",
         "延长期限不得超过30日", "延期理由", "90日", "依照该程序自身的规定"),
        id="extension",
    ),
    pytest.param(
        "复查要在多少天内提出",
        ("第三十五条", "自收到书面答复之日起30日内", "原办理机关的上一级机关复查",
         "自收到复查请求之日起30日内提出复查意见", "收到书面答复的那天算起",
         "顺延至其后的第一个工作日", "第三十六条"),
        id="review",
    ),
    pytest.param(
        "复核要在多少天以内提出",
        ("第三十六条", "自收到复查意见之日起30日内", "复查机关的上一级机关请求复核",
         "顺延至其后的第一个工作日", "自收到复核请求之日起30日内提出复核意见", "听证所需时间不计算在内",
         "同一事实和理由", "不再受理"),
        id="recheck",
    ),
    pytest.param(
        "我反映了会不会石沉大海",
        ("不会石沉大海", "第二十一条", "第二十二条", "15日内登记", "第二十三条",
         "接收情况以及处理途径和程序", "合计最长约30日", "第三十四条", "60日内办结", "不超过30日"),
        id="record",
    ),
]


@pytest.mark.parametrize(("question", "fragments"), STATEMENTS)
def test_the_policy_answer_states_the_limit_exactly(stack: Stack, question: str, fragments: tuple[str, ...]) -> None:
    chat = Chat(stack, "limits")
    chat.expect(question, *fragments, absent=(OLD_WORDING, "是否同意"))


def cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_the_filing_confirmation_and_the_lookup_state_the_limits_with_their_dates(stack: Stack) -> None:
    chat = Chat(stack, "limits-filed")
    chat.expect("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    id_number, phone = new_identity()  # another citizen than the other filings of this stack
    chat.expect(id_number, "手机号码")
    chat.expect(phone, "住址")
    chat.expect("西湖区三墩镇振华路100号", "劳动和社会保障")
    chat.expect("对的", "被反映对象")
    chat.expect("杭州某某建筑劳务公司", "诉求")
    chat.expect("要求把拖欠的三万二千元工资结清", "第一次反映")
    chat.expect("第一次", "多少人")
    chat.expect("就我一个人", "请核对您的登记信息")
    today = datetime.now(TZ).date()
    forwarded, notified = cn(today + timedelta(days=15)), cn(today + timedelta(days=30))
    reply = chat.expect(
        "确认提交",
        "信访件编号", "查询码",
        # the two steps, with their dates and articles
        f"信访部门在{forwarded}前登记，并转送、交办有权处理的机关（第二十二条）",
        "自收到之日起15日内，书面告知您接收情况以及处理途径和程序（第二十三条）",
        f"两步合计最长约30日，也就是最迟在{notified}前收到告知",
        # 60 days for 第三十一条(六) matters only, extension and its reason
        "（第三十一条第（六）项），自受理之日起60日内办结",
        "延长不超过30日，并告知您延期理由（第三十四条）",
        "依照该程序自身的期限办理",
        # 复查 from receipt of the written reply, one level up
        "自收到书面答复之日起30日内，向原办理机关的上一级机关请求复查（第三十五条）",
        absent=(OLD_WORDING,),
    )
    assert re.search(r"信访件编号：XF\d{10}", reply), chat.transcript()

    # the lookup in the same conversation tells the same two steps
    chat.expect(
        "查一下我的信访件",
        "已登记",
        f"信访部门在{forwarded}前登记，并转送、交办有权处理的机关（第二十二条）",
        f"书面告知您接收情况以及处理途径和程序（第二十三条），两步合计最迟约在{notified}前",
        "自受理之日起60日内办结",
        absent=(OLD_WORDING,),
    )
