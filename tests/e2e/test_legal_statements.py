"""Every legal statement the assistant makes about referrals, representatives, retaliation,
personal information and withdrawal, end to end through the REST channel.

One row per statement: what the citizen says (after any earlier turns the statement needs),
and the exact figures, articles, numbers and bodies the reply must contain, and the wrong
ones it must not. The law is in the project's domain reference: 《信访工作条例》 (2022),
《刑事诉讼法》 第230条, 《民事诉讼法》 第220条, 《劳动争议调解仲裁法》 第27条,
《行政复议法》 (2023) 第20、24条, 《行政诉讼法》, 《个人信息保护法》 第15、17、28–31条.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest

from bot.rules.jurisdiction import load_jurisdiction
from tests.support.chat import Chat
from tests.support.citizens import new_identity
from tests.support.stack import Stack, button_payloads

pytestmark = pytest.mark.e2e

J = load_jurisdiction()
WAGES = "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二"
CASE_NO = re.compile(r"信访件编号：(XF\d{10})")

# The form's questions (the last message of a reply) and a valid answer, checked in order.
FORM_ANSWERS = (
    ("姓名", "张建国"),
    ("证件号码", "11010519491231002X"),
    ("身份证号码", "11010519491231002X"),
    ("联系电话", "13812345678"),
    ("手机号码", "13812345678"),
    ("住址", "西湖区三墩镇振华路100号"),
    ("街道或镇", "三墩镇"),
    ("被反映对象", "杭州某某建筑劳务公司"),
    ("诉求", "要求把拖欠的三万二千元工资结清"),
    ("事情的经过", WAGES),
    ("第一次反映", "第一次"),
    ("多少人", "就我一个人"),
)


def file_a_case(chat: Chat) -> str:
    """Go through the petition form with valid answers and confirm; the case number. Each
    chat is another citizen (its own ID and phone): the same person with the same matter
    again would be added to the first case, not filed."""
    id_number, phone = new_identity()
    own = {"证件号码": id_number, "身份证号码": id_number, "联系电话": phone, "手机号码": phone}
    reply = chat.expect(WAGES, "是否同意")
    for _ in range(30):
        found = CASE_NO.search(reply)
        if found:
            return found.group(1)
        payloads = button_payloads(chat.last)
        question = chat.last[-1].get("text", "") if chat.last else ""
        # consent, the ID consent, the proposed category, "first time", the summary: yes
        yes = [t for t in ("确认提交", "同意", "同意提供") if t in payloads]
        yes += [t for t in payloads if t.startswith("是")]
        if yes:
            reply = chat.click(yes[0])
            continue
        answer = next((own.get(key, a) for key, a in FORM_ANSWERS if key in question), None)
        assert answer is not None, f"no answer for {question!r}\n{chat.transcript()}"
        reply = chat.say(answer)
    raise AssertionError(f"no case filed\n{chat.transcript()}")


def start_petition(chat: Chat) -> None:
    chat.expect(WAGES, "是否同意")


@dataclass(frozen=True)
class Statement:
    name: str
    message: str
    fragments: tuple[str, ...]
    absent: tuple[str, ...] = ()
    first: str = ""  # the reply starts with this (emergency numbers come first)
    before: Callable[[Chat], object] | None = None  # earlier turns the statement needs


STATEMENTS = (
    # --- emergencies -------------------------------------------------------------------------
    Statement("traffic accident with someone hurt: 120 and 122",
              "刚才路口出车祸了，有人被撞倒在地上流血",
              ("120", "122", "交通事故"), first="请立即拨打120急救，同时拨打122"),
    # --- courts and the procuratorate (诉访分离, 第二十二条、第三十一条) ----------------------
    Statement("civil appeal: 15 days, ruling 10 days",
              "民事判决不服，上诉期限是几天",
              ("自判决书送达之日起15日内上诉，不服裁定的10日内", "诉访分离", "人民法院"),
              absent=("政法委",)),
    Statement("criminal appeal: 10 days, ruling 5 days",
              "刑事案件一审判决不服，多少天内可以上诉",
              ("刑事案件不服判决的10日内、不服裁定的5日内上诉", "第二百三十条", "第二日起算"),
              absent=("政法委",)),
    Statement("civil retrial first, then the procuratorate",
              "再审申请被法院驳回了，还能找检察院吗",
              ("先申请再审", "驳回再审申请", "逾期未对再审申请作出裁定", "明显错误",
               "检察建议或者抗诉", "第二百二十条", "6个月", "杭州市西湖区人民检察院"),
              absent=("政法委",)),
    Statement("an enforcement goes to the court, 2 years",
              "法院判决下来了对方就是不给钱",
              ("申请强制执行", "2年", "执行监督"), absent=("政法委",)),
    Statement("a report the police will not take: 7 days, the procuratorate's supervision",
              "被人骗了十几万，报警以后派出所一直不立案",
              ("7日内", "申请复议", "立案监督", "杭州市公安局西湖区分局"), absent=("政法委",)),
    # --- arbitration, administrative review and litigation ------------------------------------
    Statement("labour arbitration: 1 year, wage arrears from the end of the job, 12333",
              "还在公司上班，工资拖欠了两年，现在申请劳动仲裁会不会过了时效",
              ("1年", "第二十七条", "不受1年的限制", "自劳动关系终止之日起1年内", "12333",
               "劳动人事争议仲裁委员会")),
    Statement("行政复议: 60 days, to the review body (the government at the same level)",
              "行政复议申请多久内要提出",
              ("60日内", "《行政复议法》第二十条", "第二十四条", "复议机关", "杭州市西湖区人民政府"),
              absent=("政法",)),
    Statement("行政诉讼: 6 months, 15 days after a review decision",
              "我想告政府，行政诉讼怎么打",
              ("6个月", "收到复议决定书之日起15日内")),
    Statement("accusations against officials: 纪检监察, 12388, confidentiality",
              "村支书贪污",
              ("12388", "纪检监察", "西湖区纪委区监委", "第三十条")),
    Statement("诉访分离 names the bodies that decide",
              "什么是诉访分离",
              ("人民法院", "人民检察院", "公安机关", "复议机关", "60日"), absent=("同级政法部门",)),
    Statement("12345 and 信访",
              "12345和信访有什么区别",
              ("12345", "第二十三条", "第三十四条"), absent=("书面受理告知",)),
    # --- visits, representatives, retaliation, 属地管理 ------------------------------------------
    Statement("at most 5 representatives, for visits only",
              "集体上访有什么规定",
              ("第二十条", "走访", "不超过5人", "不需要推选代表")),
    Statement("a joint letter needs no representatives",
              "联名信访怎么弄",
              ("联名写信", "不需要推选代表")),
    Statement("retaliation: 第四十六条, not 第十八条",
              "反映问题会不会被打击报复",
              ("第四十六条", "打击报复信访人", "依规依纪依法严肃处理"), absent=("第十八条",)),
    Statement("the petitioner's rights name the retaliation article",
              "信访人有哪些权利",
              ("第四十六条", "第二十三条", "第三十五条", "第三十六条")),
    Statement("another district: its own body, no forwarding promise",
              "我是余杭的，这事能在你们这反映吗",
              ("杭州市余杭区信访局", "第五条", "请您直接向杭州市余杭区信访局反映"),
              absent=("15日内转送",)),
    # --- personal information ------------------------------------------------------------------
    Statement("the personal-information notice says all PIPL 第17条 asks",
              WAGES,
              ("第十七条", J.agency, J.hotline, "目的", "姓名", "联系电话", "住址",
               "证件号码属于敏感个人信息", "另行决定是否同意", "转送、交办给有权处理的机关",
               "加密保存", "对话记录", "会保存在系统中", J.data_retention, "境内",
               "查阅、复制、更正、补充、删除", "回复「取消」", "提交以后如需撤回", "转人工", "第十五条",
               "是否同意"),
              absent=("不会收集任何个人信息", "仅用于办理")),
    Statement("declining: nothing registered, no case, the chat record kept",
              "不同意",
              ("不登记您的个人信息", "不会形成信访件", "对话的文字记录仍会"),
              absent=("不会收集", "信访件编号"), before=start_petition),
    Statement("no consent: what happens",
              "不同意收集信息还能反映吗",
              ("不会形成信访件", "对话记录"), absent=("不会收集您的任何个人信息",)),
    Statement("the ID number: sensitive, separate consent, other documents, no mobile",
              "为什么要身份证号",
              ("敏感个人信息", "第二十八条", "第二十九条", "第三十条", "第三十一条", "不提供也可以登记",
               "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证", "护照",
               "固定电话")),
    Statement("retention covers the chat record",
              "信息保存期限是多久",
              (J.data_retention, "对话记录", "第十九条")),
    Statement("withdrawal after filing: staff, with the case number",
              "取消",
              ("不能在这里直接撤回", J.hotline, "接待场所", "「转人工」", "核实是您本人", "第十五条"),
              absent=("没有正在",), before=file_a_case),
)


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.name for s in STATEMENTS])
def test_legal_statement(stack: Stack, statement: Statement) -> None:
    chat = Chat(stack, "law")
    earlier = statement.before(chat) if statement.before else None
    reply = chat.expect(statement.message, *statement.fragments, absent=statement.absent)
    if statement.first:
        first = chat.last[0].get("text", "") if chat.last else ""
        assert first.startswith(statement.first), chat.transcript()
    if isinstance(earlier, str):  # a filed case: its number is the one to withdraw
        assert earlier in reply, chat.transcript()
