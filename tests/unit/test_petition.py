from __future__ import annotations

import pytest

from bot.rules.fields import REVIEW_STAGES
from bot.rules.petition import (
    check_address,
    is_filler,
    is_question,
    check_free_text,
    check_name,
    detect_field,
    drop_name_explanations,
    extract_correction_value,
    parse_review_stage,
    parse_yes_no,
)
from tests.unit.helpers import assert_accepted, assert_rejected


def test_review_stages() -> None:
    assert REVIEW_STAGES == {
        "no_reply_yet": "还在办理中或尚未收到答复",
        "replied": "已收到处理意见但未申请复查",
        "reviewed": "已经复查（收到复查意见）",
        "rechecked": "已经复核（收到复核意见）",
        "unknown": "不清楚",
    }


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("张三", "张三"),
        ("我叫张三", "张三"),
        ("我叫张三。", "张三"),
        ("我的名字是欧阳明华", "欧阳明华"),
        ("名字叫 李四", "李四"),
        ("姓名：王芳", "王芳"),
        ("姓名:王芳", "王芳"),
        ("本人王芳", "王芳"),
        ("我是王芳", "王芳"),
        ("您好，我叫王小明", "王小明"),
        ("王小明吧", "王小明"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提 • 艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("John Smith", "John Smith"),
        ("My name is John Smith", "John Smith"),
        ("Zhang San", "Zhang San"),
        ("O'Brien", "O'Brien"),
        ("张 三", "张三"),
        # how the name is written, said after it, and a role before it
        ("我叫唐永康唐朝的唐永远的永健康的康", "唐永康"),
        ("唐永康，唐朝的唐，永远的永，健康的康", "唐永康"),
        ("冯建军 两点水的冯", "冯建军"),
        ("孙晓东，晓是拂晓的晓", "孙晓东"),
        ("张伟，弓长张", "张伟"),
        ("我是业主代表葛建明", "葛建明"),
    ],
)
def test_name_accepted(text: str, value: str) -> None:
    assert_accepted(check_name(text), value)


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", "empty", "姓名"),
        ("我叫", "empty", "姓名"),
        ("my name is", "empty", "姓名"),
        ("张3", "chars", "数字"),
        ("王芳13812345678", "chars", "数字"),
        ("张三@", "chars", "汉字"),
        ("张三John", "chars", "汉字"),
        ("张", "too_short", "至少2个字"),
        ("X", "too_short", "至少2个字"),
        ("张" * 21, "too_long", "最多20个字"),
        ("匿名", "not_name", "第十九条"),
        ("不想说", "not_name", "真实姓名"),
    ],
)
def test_name_rejected(text: str, error: str, fragment: str) -> None:
    assert_rejected(check_name(text), error, fragment, "张建国")


# --- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我住在文三路100号", "文三路100号"),
        ("住址是西湖区古荡街道某某小区3幢", "西湖区古荡街道某某小区3幢"),
        ("住址：杭州市西湖区文三路138号3幢2单元501室。", "杭州市西湖区文三路138号3幢2单元501室"),
        ("家住三墩镇某某村5组", "三墩镇某某村5组"),
        ("翠苑一区12幢", "翠苑一区12幢"),
    ],
)
def test_address_accepted(text: str, value: str) -> None:
    assert_accepted(check_address(text), value)


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", "empty", "住址"),
        ("我住在", "empty", "住址"),
        ("不知道", "not_address", "第十九条"),
        ("保密", "not_address", "住址"),
        ("abcdefg", "not_address", "住址"),
        ("杭州市", "too_short", "门牌号"),
        ("文三路" + "1" * 200, "too_long", "最多200个字"),
    ],
)
def test_address_rejected(text: str, error: str, fragment: str) -> None:
    assert_rejected(check_address(text), error, fragment, "文三路138号")


# --- free text -------------------------------------------------------------------------


def test_free_text_accepted() -> None:
    facts = "公司从8月起拖欠我们三个月工资，一直不给。"
    assert_accepted(check_free_text(f"  {facts} ", "facts", 10), facts)
    assert_accepted(check_free_text("公司从８月起拖欠工资，\u200b一直不给！", "facts", 10), "公司从8月起拖欠工资，一直不给！")
    assert_accepted(check_free_text("要求补发工资", "request", 4), "要求补发工资")


@pytest.mark.parametrize(
    ("text", "field", "min_len", "error", "fragment"),
    [
        ("", "facts", 10, "empty", "事实和理由"),
        ("太短了", "facts", 10, "too_short", "您的事实和理由太简短了（至少需要10个字）"),
        ("要钱", "request", 4, "too_short", "您的诉求太简短了（至少需要4个字）"),
        ("事" * 2001, "facts", 10, "too_long", "有2001个字，超过了2000字"),
        ("   ", "request", 4, "empty", "诉求"),
    ],
)
def test_free_text_rejected(text: str, field: str, min_len: int, error: str, fragment: str) -> None:
    assert_rejected(check_free_text(text, field, min_len), error, fragment)


def test_free_text_custom_max_and_unknown_field() -> None:
    assert_rejected(check_free_text("一二三四五六", "request", 2, max_len=5), "too_long", "超过了5字")
    check = check_free_text("短", "note", 3)
    assert check.error == "too_short"
    assert check.message == "您的note太简短了（至少需要3个字），请说得具体一些。请用至少3个字说明。"


def test_free_text_examples_are_shown() -> None:
    facts = check_free_text("短", "facts", 10).message or ""
    request = check_free_text("短", "request", 4).message or ""
    assert "例如：“2026年8月起，某某建筑公司拖欠我和另外12名工人三个月工资" in facts
    assert "例如：“要求某某建筑公司支付拖欠的三个月工资。”" in request


# --- review stages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("复核过了", "rechecked"),
        ("已经复核", "rechecked"),
        ("复核了，还是不满意", "rechecked"),
        ("收到复核意见了", "rechecked"),
        ("复核", "rechecked"),
        ("rechecked", "rechecked"),
        ("已经复核（收到复核意见）", "rechecked"),
        ("复查完了还不服", "reviewed"),
        ("复查过了，还没复核", "reviewed"),
        ("没申请复核，复查意见收到了", "reviewed"),
        ("正在复核", "reviewed"),
        ("想申请复核", "reviewed"),
        ("已经复查（收到复查意见）", "reviewed"),
        ("收到答复了，没申请复查", "replied"),
        ("收到处理意见了", "replied"),
        ("给了答复但是我不满意", "replied"),
        ("没复查", "replied"),
        ("想申请复查", "replied"),
        ("还没答复", "no_reply_yet"),
        ("没有收到答复", "no_reply_yet"),
        ("还在办", "no_reply_yet"),
        ("一直没有结果", "no_reply_yet"),
        ("石沉大海", "no_reply_yet"),
        ("不清楚", "unknown"),
        ("不知道", "unknown"),
        ("忘了", "unknown"),
        ("嗯", None),
        ("今天天气不错", None),
        ("没复核", None),
        ("", None),
    ],
)
def test_parse_review_stage(text: str, stage: str | None) -> None:
    assert parse_review_stage(text) == stage


# --- corrections -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("电话写错了", "phone"),
        ("手机号码改一下", "phone"),
        ("联系方式不对", "phone"),
        ("地址改一下", "address"),
        ("住址写错了", "address"),
        ("问题发生的地方不对", "place"),
        ("地点写错了", "place"),
        ("哪个街道写错了", "place"),
        ("问题发生的地址写错了", "place"),
        ("名字打错了", "petitioner_name"),
        ("姓名不对", "petitioner_name"),
        ("身份证号码错了", "id_number"),
        ("类别选错了", "category"),
        ("分类不对", "category"),
        ("诉求要改", "request"),
        ("我的要求写得不完整", "request"),
        ("经过写得不对", "facts"),
        ("事实部分要补充", "facts"),
        ("人数不对", "group_size"),
        ("被反映的单位名字写错了", "respondent"),
        ("被反映人不是他", "respondent"),
        ("之前反映的单位写错了", "prior_body"),
        ("信访件编号错了", "prior_case_no"),
        ("复查情况选错了", "review_stage"),
        ("不是第一次", "is_first"),
        ("我想改一下", None),
        ("", None),
        # the words before the new value name the field, not the words inside it
        ("地址写错了，应该是西湖区古荡街道申花路500号2幢1单元1103室", "address"),
        ("电话写错了，应该是13912345678", "phone"),
    ],
)
def test_detect_field(text: str, field: str | None) -> None:
    assert detect_field(text) == field


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("电话写错了，应该是13912345678", "13912345678"),
        ("电话写错了 13912345678", "13912345678"),
        ("电话号码改为 139-1234-5678", "13912345678"),
        ("名字打错了，是王芳不是王方", "王芳"),
        ("不是王方，是王芳", "王芳"),
        ("名字应该是「欧阳明华」", "欧阳明华"),
        ("地址改成文三路100号", "文三路100号"),
        ("地址错了，文三路100号", "文三路100号"),
        ("不是文新，公司在西溪那边", "公司在西溪那边"),
        ("不在留下，在转塘", "在转塘"),
        ("把分类改成劳动和社会保障", "劳动和社会保障"),
        ("身份证号应为 11010519491231002X", "11010519491231002X"),
        ("人数应该是二十多人", "二十多人"),
        ("地址改一下", None),
        ("地址改一下，麻烦了", None),
        ("电话是错的", None),
        ("是不是可以改一下地址", None),
        ("名字打错了", None),
        ("", None),
    ],
)
def test_extract_correction_value(text: str, value: str | None) -> None:
    assert extract_correction_value(text) == value


# --- yes / no --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("是", True),
        ("是的", True),
        ("对", True),
        ("对的。", True),
        ("同意", True),
        ("好的", True),
        ("好", True),
        ("可以", True),
        ("确认", True),
        ("嗯嗯", True),
        ("没问题", True),
        ("第一次", True),
        ("是第一次", True),
        ("首次反映", True),
        ("没反映过", True),
        ("之前没有反映过", True),
        ("OK", True),
        ("Yes", True),
        ("不", False),
        ("不是", False),
        ("不对", False),
        ("不同意", False),
        ("不要", False),
        ("没有", False),
        ("否", False),
        ("算了", False),
        ("之前反映过", False),
        ("以前反映过", False),
        ("不是第一次", False),
        ("我之前去街道反映过一次", False),
        ("这不是我第一次反映了", False),
        ("已经是第三次了", False),
        ("反映过好几次", False),
        ("我是第一次来反映这个问题", True),
        ("no", False),
        ("不知道", None),
        ("不清楚", None),
        ("这个是干嘛的", None),
        ("是不是要填身份证", None),
        ("可以吗？", None),
        ("为什么要同意", None),
        ("我之前反映过，怎么还要填", False),
        ("随便", None),
        ("这个问题很复杂我要说一说是怎么回事", None),
        ("今天天气", None),
        ("", None),
    ],
)
def test_parse_yes_no(text: str, answer: bool | None) -> None:
    assert parse_yes_no(text) is answer


@pytest.mark.parametrize("text", ["那个", "呃……", "emmm", "额，那个", "啊这", "这个。。。"])
def test_hesitation_words_are_fillers(text: str) -> None:
    assert is_filler(text)


@pytest.mark.parametrize("text", ["嗯", "嗯嗯", "好的", "同意", "那个不对", "这个事", ""])
def test_answers_are_not_fillers(text: str) -> None:
    assert not is_filler(text)


@pytest.mark.parametrize(
    "text",
    ["复查怎么申请", "复核期限是多久", "材料要原件还是复印件", "代表最多几个人", "信访会不会被打击报复",
     "我想了解一下复查的规定", "应该打12345还是信访", "受理了吗"],
)
def test_policy_questions_are_questions(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    ["前年向区里反映过，后来又复查复核了", "去年打过市长热线，说转给街道了", "已经复查过了，区里维持原来的意见",
     "好几次了，一直没人管", "三年前反映过几次", "之前找过街道，他们说还是要找区里"],
)
def test_accounts_of_what_happened_are_not_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("我叫唐永康唐朝的唐永远的永健康的康", "我叫唐永康"),
        ("我叫唐永康唐朝的唐身份证330106198505123417", "我叫唐永康身份证330106198505123417"),
        # an explained character must be one of the name just before, and part of its word
        ("开发公司的公章一直没给", "开发公司的公章一直没给"),
        ("我们小区的区长说", "我们小区的区长说"),
        ("他说是公司的公章", "他说是公司的公章"),
    ],
)
def test_drop_name_explanations(text: str, kept: str) -> None:
    assert drop_name_explanations(text) == kept


@pytest.mark.parametrize("text", ["第一回", "头一回", "是第一回反映"])
def test_first_time_in_other_words(text: str) -> None:
    assert parse_yes_no(text) is True
