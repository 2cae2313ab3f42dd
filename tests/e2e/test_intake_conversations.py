"""Complete conversations through the REST channel against the real processes.

Each test plays a citizen from the opening message to the filed case (or to the reason
no case is filed), then reads the case from the back office API and checks what was stored.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bot.rules.deadlines import TZ
from tests.support.chat import Chat
from tests.support.citizens import new_identity
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
QUERY_CODE = re.compile(r"查询码：(\d{6})")


def filed(reply: str) -> tuple[str, str]:
    case_no, code = CASE_NO.search(reply), QUERY_CODE.search(reply)
    assert case_no and code, reply
    return case_no.group(1), code.group(1)


def cases_of(stack: Stack, sender: str) -> list[dict]:
    status, body = stack.api_get(f"/cases?conversation_id={sender}")
    assert status == 200, body
    return body["cases"]


def today() -> datetime:
    return datetime.now(TZ)


def test_wage_arrears_filed_with_a_correction_then_looked_up(stack: Stack) -> None:
    chat = Chat(stack, "wages")
    chat.expect("你好", "智能助手", "个人信息")
    chat.expect(
        "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱",
        "个人信息",
        "是否同意",
    )
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    chat.expect("11010519491231002x", "手机号码")
    chat.expect("138 1234 5678", "住址")
    # the place (三墩) came with the description: the next question is the category
    chat.expect("西湖区三墩镇振华路100号", "劳动和社会保障")
    chat.expect("对的", "被反映对象")
    chat.expect("杭州某某建筑劳务公司的包工头", "诉求")
    chat.expect("要求把拖欠的三万二千元工资全部结清", "第一次反映")
    chat.expect("第一次", "多少人")
    summary = chat.expect("就我一个人", "请核对您的登记信息", "13812345678", "110105********002X")
    assert "三墩镇" in summary and "西湖区人力资源和社会保障局" in summary
    corrected = chat.expect("电话写错了，应该是13912345678", "13912345678", "请核对您的登记信息")
    assert "13812345678" not in corrected.split("请核对")[-1]
    case_no, code = filed(chat.expect("确认提交", "登记", "信访件编号"))

    [case] = cases_of(stack, chat.sender)
    assert case["case_no"] == case_no
    assert case["status"] == "registered"
    assert case["channel"] == "rest"
    assert case["petitioner"]["name"] == "张建国"
    assert case["petitioner"]["id_number"] == "110105********002X"
    assert case["petitioner"]["phone"] == "139****5678"
    assert case["petitioner"]["address"] == "西湖区三墩镇振华路100号"
    assert case["location"]["division"] == "三墩镇"
    assert case["category"] == "劳动和社会保障"
    assert "拖着工资" in case["facts"]
    assert case["request"] == "要求把拖欠的三万二千元工资全部结清"
    assert case["is_repeat"] is False and case["group_size"] == 1
    assert case["responsible_unit"] == "西湖区人力资源和社会保障局"
    due = (today().date() + timedelta(days=15)).isoformat()
    assert case["deadlines"]["acceptance_notice_due"] == due

    # the same conversation: the case just filed is looked up without asking again
    chat.expect("查一下我的信访件", case_no, "已登记")

    # a new conversation: case number and code are asked
    other = Chat(stack, "lookup")
    other.expect("我想查询一下信访件的办理进度", "信访件编号")
    other.expect(case_no, "查询码")
    reply = other.expect(code, case_no, "已登记", "西湖区人力资源和社会保障局")
    assert f"{due[:4]}年{int(due[5:7])}月{int(due[8:])}日" in reply

    # a wrong code reveals nothing
    stranger = Chat(stack, "stranger")
    stranger.expect(f"查一下{case_no}的进度", "查询码")
    reply = stranger.expect("000000" if code != "000000" else "111111", "未找到")
    assert "张建国" not in reply and "人力资源" not in reply


def test_group_repeat_petition_with_invalid_answers(stack: Stack) -> None:
    chat = Chat(stack, "group")
    chat.expect("我们小区楼下新开的饭店油烟特别大，熏得窗户都不敢开，二十多户业主都受不了了", "是否同意")
    chat.expect("好的", "姓名")
    chat.expect("我叫李秀兰", "身份证号码")
    chat.expect("330106199003071235", "身份证", "例如")  # wrong check digit
    chat.expect("110105194912310029", "身份证")  # still wrong
    chat.expect("11010519491231002X", "手机号码")
    chat.expect("139 0571 246", "11位", "例如")  # a digit missing
    chat.expect("+86 139-0571-2468", "住址")
    # the address names its 街道: the place is taken from it and said, then the category proposed
    chat.expect("西湖区文新街道丰潭路508号", "先按您的住址记为「文新街道」", "「生态环境」")
    chat.click("是的，生态环境", "被反映对象")
    chat.expect("楼下的某某餐饮店", "诉求")
    chat.expect("希望责令饭店安装油烟净化设备，不再扰民", "第一次反映")
    chat.expect("之前反映过", "哪个单位")
    chat.expect("今年八月跟文新街道反映过", "编号")
    chat.expect("不记得了", "哪一步")
    chat.click("还在办理，或还没收到答复", "多少人")
    chat.expect("二十多户", "不超过5人", "请核对您的登记信息")
    case_no, _ = filed(chat.expect("确认", "信访件编号"))

    [case] = cases_of(stack, chat.sender)
    assert case["case_no"] == case_no
    assert case["petitioner"]["name"] == "李秀兰"
    assert case["petitioner"]["phone"] == "139****2468"
    assert case["location"]["division"] == "文新街道"
    assert case["category"] == "生态环境"
    assert case["is_repeat"] is True
    assert case["prior_case"]["review_stage"] == "no_reply_yet"
    assert "文新街道" in case["prior_case"]["body"]
    assert case["group_size"] == 20


def start_repeat_after_recheck(chat: Chat) -> None:
    chat.expect("我家的宅基地被村里划给别人了，我一直不服，前后反映了好几年", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("王大山", "身份证号码", "第二十九条", "不提供")
    chat.expect("110105194912310020", "校验码", "证件号码")  # a wrong check digit, explained
    # each test its own citizen: the same person's same matter would be added to their case
    id_number, phone = new_identity()
    chat.expect(id_number, "手机号码")
    chat.expect(phone, "住址")
    chat.expect("西湖区双浦镇某某村32号", "先按您的住址记为「双浦镇」", "类")
    chat.expect("农村农业方面的", "被反映对象")
    chat.expect("村委会", "诉求")
    chat.expect("要求把宅基地还给我", "第一次反映")
    chat.expect("不是第一次", "哪个单位")
    chat.expect("前年向区里反映过，后来又复查复核了", "编号")
    chat.expect("XF2024000321", "哪一步")
    chat.click("已经复核过", "第三十六条")


def test_after_recheck_the_same_matter_is_explained_and_not_filed_when_the_citizen_agrees(stack: Stack) -> None:
    chat = Chat(stack, "recheck")
    start_repeat_after_recheck(chat)
    reply = chat.expect("是同一件事", "不再受理", "第三十七条", "仍要登记")
    assert "信访件编号" not in reply
    chat.click("不登记了", "本次不作登记")
    assert cases_of(stack, chat.sender) == []


def test_after_recheck_the_same_matter_is_registered_flagged_when_the_citizen_insists(stack: Stack) -> None:
    chat = Chat(stack, "recheck-insist")
    start_repeat_after_recheck(chat)
    chat.expect("是同一件事", "第三十六条", "第二十二条", "仍要登记")
    chat.click("仍要登记", "书面告知", "多少人")
    summary = chat.expect("就我一个", "请核对您的登记信息", "复核后以同一事实和理由再次反映")
    assert "已经复核" in summary
    case_no, _ = filed(chat.expect("确认提交", "信访件编号"))
    [case] = cases_of(stack, chat.sender)
    assert case["case_no"] == case_no
    assert case["prior_case"]["review_stage"] == "rechecked"
    assert case["prior_case"]["same_matter_after_recheck"] is True


def test_after_recheck_new_facts_are_asked_for_and_filed(stack: Stack) -> None:
    chat = Chat(stack, "recheck-new")
    start_repeat_after_recheck(chat)
    chat.click("有新的事实或理由", "新的事实或理由")
    new_facts = "复核以后村里又把我家剩下的一半宅基地也划走了，有新的村委会决定书"
    chat.expect(new_facts, "多少人")
    summary = chat.expect("就我一个", "请核对您的登记信息", "新的事实或理由")
    assert "村委会决定书" in summary
    filed(chat.expect("确认提交", "信访件编号"))
    [case] = cases_of(stack, chat.sender)
    assert case["prior_case"]["same_matter_after_recheck"] is False
    assert case["prior_case"]["new_facts"] == new_facts


def set_slot(stack: Stack, sender: str, name: str, value) -> None:
    """Append a slot event through Rasa's HTTP API (as a stale or tampered answer would be)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{sender}/tracker/events?token={stack.rasa_token}",
        data=json.dumps({"event": "slot", "name": name, "value": value}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_a_refused_submission_resumes_at_the_refused_question_not_from_the_start(stack: Stack) -> None:
    chat = Chat(stack, "refused")
    chat.expect("我要投诉小区物业乱收费，一个车位管理费一年收三千，物业公司不给任何说法", "是否同意")
    # the other side named in the opening ("投诉小区物业") is taken, not asked again
    chat.expect("同意", "已记下", "被反映人或单位「小区物业」", "姓名")
    chat.expect("陈志强", "身份证号码")
    chat.expect("11010519491231002X", "手机号码")
    chat.expect("13712345678", "住址")
    chat.expect("西湖区古荡街道某某小区3幢201室", "先按您的住址记为「古荡街道」", "类")
    chat.expect("城乡建设方面的", "诉求", absent=("被反映对象",))
    chat.expect("要求物业公司退还多收的车位管理费", "第一次反映")
    chat.expect("第一次", "多少人")
    chat.expect("就我一个", "请核对您的登记信息")
    set_slot(stack, chat.sender, "category", "不存在的分类")  # the back office will refuse it
    chat.expect("确认提交", "没有通过审核", "内容分类", absent=("信访件编号",))
    assert cases_of(stack, chat.sender) == []
    reply = chat.click("继续填写", "类", absent=("是否同意", "姓名"))
    assert "个人信息" not in reply
    chat.expect("城乡建设方面的", "请核对您的登记信息", "陈志强")
    filed(chat.expect("确认提交", "信访件编号"))
    [case] = cases_of(stack, chat.sender)
    assert case["category"] == "城乡建设" and case["petitioner"]["name"] == "陈志强"


def test_without_a_mainland_id_or_any_phone_a_petition_is_filed(stack: Stack) -> None:
    chat = Chat(stack, "no-id-no-phone")
    chat.expect("我要反映一个问题，我们小区旁边的工厂天天晚上偷排废气，味道很大，已经好几个月了", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("陈大文", "证件号码")
    chat.expect("回乡证 H12345678", "联系电话")
    chat.expect("手机座机都没有", "按您留的住址", "住址")
    chat.expect("西湖区文新街道某某小区5幢101室", "先按您的住址记为「文新街道」", "类")
    chat.expect("生态环境方面的", "被反映对象")
    chat.expect("无", "诉求")
    chat.expect("要求尽快清理垃圾站", "第一次反映")
    chat.expect("第一次", "多少人")
    summary = chat.expect("就我一个", "请核对您的登记信息", "港澳居民来往内地通行证", "无电话")
    assert "H12345678" not in summary
    filed(chat.expect("确认提交", "信访件编号"))
    [case] = cases_of(stack, chat.sender)
    assert case["petitioner"]["id_type"] == "hk_macao_permit"
    assert case["petitioner"]["contact_type"] == "none" and case["petitioner"]["phone"] is None


def test_out_of_jurisdiction_place_is_recorded_and_explained(stack: Stack) -> None:
    chat = Chat(stack, "outside")
    chat.expect(
        "我在余杭区良渚买的房子漏水，开发商一直拖着不修",
        "杭州市余杭区",
        "属地管理",
        "杭州市余杭区信访局",
        "是否同意",
    )
    chat.expect("同意", "姓名")
    chat.expect("赵敏", "身份证号码")
    chat.expect("11010519491231002X", "手机号码")
    chat.expect("13712345678", "住址")
    chat.expect("西湖区翠苑街道文二路1号", "「城乡建设」")
    chat.expect("对", "被反映对象")
    chat.expect("某某房地产开发有限公司", "诉求")
    chat.expect("要求开发商尽快维修漏水", "第一次反映")
    chat.expect("是第一次", "多少人")
    summary = chat.expect("我一个人", "请核对您的登记信息", "杭州市余杭区信访局（转送）")
    assert "问题发生地：杭州市余杭区" in summary
    case_no, _ = filed(chat.expect("确认提交", "信访件编号"))
    [case] = cases_of(stack, chat.sender)
    assert case["case_no"] == case_no
    assert case["location"]["status"] == "out"
    assert case["responsible_unit"] == "杭州市余杭区信访局（转送）"


def test_cancel_is_confirmed_and_files_nothing(stack: Stack) -> None:
    chat = Chat(stack, "cancel")
    chat.expect("我要投诉小区物业乱收费，一个车位管理费一年收三千", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("陈志强", "身份证号码")
    chat.expect("算了不办了", "确定要取消")
    chat.click("继续填写", "身份证号码")
    chat.expect("不想弄了，取消吧", "确定要取消")
    chat.expect("确定", "已取消", "没有提交")
    assert cases_of(stack, chat.sender) == []


def test_question_in_the_middle_of_the_form_is_answered_and_the_form_resumes(stack: Stack) -> None:
    chat = Chat(stack, "faq-mid")
    chat.expect("我反映一下我们村的路坏了好几个月没人修，下雨天根本没法走", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("一般多久能给我答复？", "第三十四条", "60日", "姓名")
    chat.expect("刘芳", "身份证号码")
