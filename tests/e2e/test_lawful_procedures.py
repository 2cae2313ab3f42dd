"""Policy answers and lawful procedures, end to end through the REST channel.

Emergencies get the emergency numbers first (also in the middle of the form and inside a long
answer); matters for other procedures are never silently filed or refused: the citizen reads
where to go, the article and the time limit, and can still file; visits over levels, 第26条,
属地管理, small talk and the human handoff. The assertions are on the text the citizen reads.
"""

from __future__ import annotations

import pytest

from bot.rules.jurisdiction import load_jurisdiction
from tests.support.chat import Chat
from tests.support.stack import Stack, button_payloads

pytestmark = pytest.mark.e2e

WAGES = "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二"


def post_handoff(stack: Stack, conversation_id: str) -> tuple[int, dict]:
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{stack.backoffice_url}/api/v1/handoffs",
        data=json.dumps({"conversation_id": conversation_id, "channel": "rest"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.service_token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def first_text(chat: Chat) -> str:
    return chat.last[0].get("text", "") if chat.last else ""


def test_an_emergency_in_the_middle_of_the_form_comes_first_and_the_form_goes_on(stack: Stack) -> None:
    chat = Chat(stack, "emergency-form")
    chat.expect(WAGES, "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    reply = chat.expect("我实在没办法了，现在就站在楼顶上，老板再不给钱我就跳下去", "110", "120", "身份证号码")
    assert first_text(chat).startswith("请立即拨打110或120"), chat.transcript()
    assert reply.index("110") < reply.index("身份证号码")
    assert "您已填写的登记信息都保留着" in reply
    chat.expect("11010519491231002X", "手机号码")  # the question asked again, the answers kept


def test_emergency_words_inside_a_long_answer_are_not_taken_as_the_answer(stack: Stack) -> None:
    chat = Chat(stack, "emergency-answer")
    chat.expect(WAGES, "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    chat.expect("11010519491231002X", "手机号码")
    chat.expect("13812345678", "住址")
    chat.expect("西湖区三墩镇振华路100号", "劳动和社会保障")
    chat.expect("对的", "被反映对象")
    chat.expect("杭州某某建筑劳务公司", "诉求")
    long_answer = "要求老板马上把三万二的工资结清，我爸为这事跟他们吵，刚才在工地门口晕倒了，现在人还昏迷着"
    chat.expect(long_answer, "请立即拨打120", "诉求")
    assert first_text(chat).startswith("请立即拨打120"), chat.transcript()
    # the citizen repeats the answer: now it is taken
    chat.expect(long_answer, "第一次反映")


def test_an_emergency_outside_the_form(stack: Stack) -> None:
    chat = Chat(stack, "emergency")
    chat.expect("楼下着火了好大的烟", "119", "120")
    assert first_text(chat).startswith("请立即拨打119"), chat.transcript()
    assert "是否同意" not in chat.turns[-1][1]


def test_a_court_judgment_goes_to_the_court_route_and_can_still_be_filed(stack: Stack) -> None:
    chat = Chat(stack, "judgment")
    reply = chat.expect(
        "法院判了我不服，判决书上写的根本不是事实",
        "第二十二条", "第三十一条", "诉访分离", "上诉", "15日内", "再审", "人民检察院",
        absent=("是否同意", "信访件编号"),
    )
    assert "仍要登记" in button_payloads(chat.last), reply
    chat.click("仍要登记", "个人信息", "是否同意")  # the record is offered: the normal intake


def test_a_judgment_not_carried_out_told_as_a_petition_is_explained_not_filed(stack: Stack) -> None:
    chat = Chat(stack, "enforcement")
    chat.expect(
        "我前年借给邻居五万块钱，法院判了他还钱，判决书下来一年多了他一分钱都没给",
        "申请强制执行", "2年", "第二十二条",
        absent=("是否同意",),
    )
    chat.click("不用了，谢谢", "还有什么可以帮您")


def test_an_officials_corruption_goes_to_discipline_inspection(stack: Stack) -> None:
    chat = Chat(stack, "discipline")
    chat.expect(
        "我们村支书贪污了修路的钱，村民都知道",
        "纪检监察", "12388", "第三十条", "不会透露", "西湖区纪委区监委",
        absent=("是否同意",),
    )


def test_a_street_light_goes_to_12345_and_is_filed_when_the_citizen_insists(stack: Stack) -> None:
    chat = Chat(stack, "street-light")
    chat.expect("小区门口的路灯坏了一个多星期了", "12345", "为您登记", absent=("是否同意",))
    chat.click("仍要登记", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("周丽娟", "身份证号码")
    chat.expect("11010519491231002X", "手机号码")
    chat.expect("13912345678", "住址")
    chat.expect("西湖区文新街道丰潭路508号", "先按您的住址记为「文新街道」", "类")
    chat.expect("交通方面的", "被反映对象")
    chat.expect("没有", "诉求")
    chat.expect("希望尽快修好路灯", "第一次反映")
    chat.expect("第一次", "多少人")
    # the description the assistant explained is the one filed
    chat.expect("就我一个人", "请核对您的登记信息", "小区门口的路灯坏了一个多星期了")


def test_going_to_beijing_gets_the_visit_rules_and_an_offer_to_file_here(stack: Stack) -> None:
    chat = Chat(stack, "beijing")
    chat.expect(
        "区里一直不给解决，我要去北京上访",
        "第二十条", "本级或者上一级", "逐级走访", "第十九条", "不予受理", "网上反映",
    )
    chat.click("在这里反映", "是否同意")


def test_banners_and_blocking_the_gate_get_the_article_26_warning_and_the_lawful_way(stack: Stack) -> None:
    chat = Chat(stack, "banner")
    chat.expect(
        "再不解决我们就去区政府拉横幅堵门",
        "理解您着急的心情", "第二十六条", "第四十七条", "合法的方式", "不超过5名代表",
        absent=("请立即拨打",),
    )
    chat.expect("带一桶汽油去区政府门口", "请立即拨打110", "第二十六条")


def test_a_place_outside_the_district_is_sent_to_its_own_body(stack: Stack) -> None:
    chat = Chat(stack, "elsewhere")
    chat.expect("我是余杭的，这事能在你们这反映吗", "杭州市余杭区信访局", "第五条")


def test_small_talk_and_a_person(stack: Stack) -> None:
    j = load_jurisdiction()
    chat = Chat(stack, "smalltalk")
    chat.expect("你是机器人吗", "智能助手", "不是工作人员")
    chat.expect("这是政府的正规渠道吗", "网上信访渠道", "第十七条")
    chat.expect("你们这帮废物", "理解您着急", absent=("废物",))
    chat.expect("我要人工", "已为您通知工作人员", j.reception_hours, j.hotline)
    # the conversation is flagged in the back office: asking again returns the same request
    status, body = post_handoff(stack, chat.sender)
    assert status == 200 and body["created"] is False, body
    assert body["handoff"]["status"] == "waiting" and body["handoff"]["channel"] == "rest"


def test_policy_answers_carry_the_agencys_published_facts(stack: Stack) -> None:
    j = load_jurisdiction()
    chat = Chat(stack, "facts")
    chat.expect("信访局地址在哪", j.address, j.reception_hours, "第十八条", absent=("{", "None"))
    chat.expect("复核以后还能再反映吗", "第三十六条", "不再受理")
