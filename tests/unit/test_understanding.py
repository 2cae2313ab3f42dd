"""bot.rules.understanding: the pieces of one message, as citizens actually type them."""

from __future__ import annotations

import pytest

from bot.rules.understanding import asks_who_handles, understand

ID = "330106198505123417"
ID_CN = "三三零一零六一九八五零五一二三四一七"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # everything in one message
        (f"我叫王建国，身份证{ID}，电话13812345678，住文新街道紫荆花路18号3幢201室。",
         {"petitioner_name": "王建国", "id_number": ID, "phone": "13812345678",
          "address": "文新街道紫荆花路18号3幢201室"}),
        # a voice transcript: no punctuation, digits spelled out
        (f"我叫李秀兰身份证号是{ID_CN}手机幺三八一二三四五六七八家住古荡街道古墩路88号",
         {"petitioner_name": "李秀兰", "id_number": ID, "phone": "13812345678", "address": "古荡街道古墩路88号"}),
        # typos of the cue words, full-width digits, spaces and dashes
        ("身份正３３０１０６１９８５０５１２３４１７，电化号138-1234-5678",
         {"id_number": ID, "phone": "138-1234-5678"}),
        ("手几号 139 1234 5678", {"phone": "139 1234 5678"}),
        # answers wrapped in other words
        ("我叫王建国，是文新街道的居民", {"petitioner_name": "王建国"}),
        ("姓名：欧阳娜娜，联系电话0571-87654321", {"petitioner_name": "欧阳娜娜", "phone": "0571-87654321"}),
        ("护照号E12345678，我是外籍人士", {"id_number": "护照号E12345678"}),
        # first or repeat, a group, a request
        ("之前已经反映过一次了，垃圾站还是很臭", {"is_first": False}),
        ("这是第一次反映", {"is_first": True}),
        ("我们二十几个工人的工资都没发", {"group_size": "二十几个工人"}),
        ("诉求是尽快把电梯修好", {"request": "尽快把电梯修好"}),
        # the other side, named as an organisation
        ("杭州某某建筑劳务有限公司拖欠我们十二个人的工资半年了",
         {"respondent": "杭州某某建筑劳务有限公司", "group_size": "十二个人"}),
        ("我要投诉西湖某某物业乱收停车费", {"respondent": "西湖某某物业"}),
        # an occupation is not a name; the place named in the account is where it happened
        ("我是外卖员，天天在文新街道送餐，被扣了好几次钱", {"place": "文新街道"}),
        ("住在文新街道紫荆花路18号，问题出在三墩镇那边的工地", {"address": "文新街道紫荆花路18号", "place": "三墩镇"}),
        ("钟阿婆，大名钟金娣", {"petitioner_name": "钟金娣"}),
        ("我姓陈，陈福根，耳东陈", {"petitioner_name": "陈福根"}),
        ("嗯……我叫那个，高玉兰", {"petitioner_name": "高玉兰"}),
        ("我是文新街道的李秀英，电话15968124473", {"petitioner_name": "李秀英", "phone": "15968124473"}),
        ("要求把工钱全部结清，这是第一次反映，就我一个人",
         {"request": "把工钱全部结清", "is_first": True, "group_size": "就我一个人"}),
        ("我们三十个工友在转塘一个工地干活，老板欠了我们半年工资",
         {"group_size": "三十个工友", "place": "转塘街道"}),
        ("我就想把剩下的卡费退回来，这事我第一次反映", {"request": "把剩下的卡费退回来", "is_first": True}),
        # a name with how it is written; a group named by where it lives; "just my family"
        ("我叫唐永康唐朝的唐永远的永健康的康", {"petitioner_name": "唐永康"}),
        ("我们小区五十多户业主的房子都开裂了", {"group_size": "五十多户业主"}),
        ("灵隐街道我们这条巷子五户人家的自来水水压太低，三楼以上都没水",
         {"group_size": "五户人家", "place": "灵隐街道"}),
        ("楼下饭馆的油烟熏得要命，希望把管道改走，就我家", {"request": "把管道改走", "group_size": "就我家"}),
        # a repeat told with the number of the earlier petition, or by its reviews
        ("去年就反映过路面塌陷的事，编号XF2025000321，到现在都没修",
         {"is_first": False, "prior_case_no": "XF2025000321"}),
        ("这个事我反映好几年了，复查复核都做过了，三墩镇的房子拆迁补偿太低", {"is_first": False, "place": "三墩镇"}),
        # the matter told as at home, with the home address: its 街道 is where it happened
        ("住西湖区转塘街道双流路12号。我们村的自来水管三天两头爆管，一直没人管",
         {"address": "西湖区转塘街道双流路12号", "place": "转塘街道"}),
        ("我住双浦镇某某村72号，事情就是我们双浦这个村的", {"address": "双浦镇某某村72号", "place": "双浦镇"}),
    ],
)
def test_pieces_are_found(text, expected):
    assert understand(text).answers == expected


@pytest.mark.parametrize(
    "text",
    [
        "包工头欠我三万八，说好的38000元一直不给",  # amounts are not phone numbers
        "2026年8月12日到2026年11月30日一直没发工资",  # dates are not ID numbers
        "我在工厂上班，老板不给钱",  # no organisation named
        "我是文新街道的居民",  # a role, not a name
        "王建国",  # a bare answer carries no cue: it answers the question asked
        "就是那个，嗯，怎么说呢",
        "我是一个人住的老太婆，楼上漏水漏到我家",  # who the citizen is, not a name
    ],
)
def test_no_piece_is_invented(text):
    assert understand(text).answers == {}


def test_the_story_is_what_is_left_once_the_pieces_are_out():
    found = understand(
        f"我叫王建国，身份证{ID}，电话13812345678。我在三墩的工地干了半年，包工头欠我三万八，要求把工钱结清"
    )
    assert found.story == "我在三墩的工地干了半年，包工头欠我三万八"
    assert found.answers["request"] == "把工钱结清"


def test_a_short_remainder_is_no_story():
    assert understand("我叫王建国，电话13812345678，谢谢").story is None


@pytest.mark.parametrize(
    "text",
    [
        "可以，同意。我叫邬晓芳，是灵隐街道的居民，我的电话是18757126614，家就住在西湖区灵隐街道灵隐路32号",
        "想了想还是把身份证号给你吧，330102199801280969",  # talk about the answers is not the matter
    ],
)
def test_wrapping_words_are_no_story(text):
    assert understand(text).story is None


def test_the_home_is_not_the_place_unless_the_matter_is_there():
    assert "place" not in understand("我住在灵隐街道玉泉路那边，门牌是玉泉路12号").answers
    assert understand("我住双浦镇某某村72号，事情就是我们双浦这个村的").place_said


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("这个事情找谁啊", True),
        ("那我该找哪个部门", True),
        ("物业乱收费归谁管", True),
        ("这事到底谁负责处理", True),
        ("我找过街道三次了", False),
        ("我想找人帮忙登记", False),
    ],
)
def test_who_handles_questions(text, asks):
    assert asks_who_handles(text) is asks
