"""The emergency safety net: danger is spotted in any message, hypotheticals and figures of
speech are not."""

from __future__ import annotations

import pytest

from bot.rules.safety import (
    CHILD,
    DROWNING,
    FIRE,
    GAS,
    MEDICAL,
    SUICIDE,
    TRAFFIC,
    TRAFFIC_INJURY,
    VIOLENCE,
    detect_emergency,
    dismissed_emergency,
)
from tests.unit.nlu_data import texts_except, texts_of


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("我现在就在楼顶，不给钱我就跳下去", SUICIDE, "110"),
        ("要是再不给钱我就跳楼", SUICIDE, "110"),  # a threat is never hypothetical
        ("我不想活了", SUICIDE, "110"),
        ("老板再不给工资我就从塔吊上跳下去", SUICIDE, "110"),
        ("我们带上汽油去区政府", SUICIDE, "110"),
        ("我吃了一瓶安眠药", SUICIDE, "110"),
        ("他拿着刀在门口", VIOLENCE, "110"),
        ("我老公喝醉了在家打我", VIOLENCE, "110"),
        ("救命啊", VIOLENCE, "110"),
        ("我被人关起来了", VIOLENCE, "110"),
        ("楼下着火了", FIRE, "119"),
        ("闻到煤气味了", GAS, "119"),
        ("有人掉河里了", DROWNING, "110"),
        ("孩子被锁在车里了", CHILD, "110"),
        ("我爸晕倒了", MEDICAL, "120"),
        ("家里老人摔倒了头上一直流血", MEDICAL, "120"),
        # traffic accidents: 122, and 120 first when someone is hurt
        ("路口两辆车撞了", TRAFFIC, "122"),
        ("出车祸了", TRAFFIC, "122"),
        ("撞车了，没人受伤", TRAFFIC, "122"),
        ("追尾了，人都没事", TRAFFIC, "122"),
        ("刚才路口出车祸了，有人被撞倒在地上流血", TRAFFIC_INJURY, "120"),
        ("有人被车撞了躺在地上不动", TRAFFIC_INJURY, "120"),
        ("我被电动车撞了腿在流血", TRAFFIC_INJURY, "120"),
        ("一辆货车把老人撞倒了", TRAFFIC_INJURY, "120"),
        ("出车祸了，出人命了", TRAFFIC_INJURY, "120"),
        ("刚被车撞了，对方司机不肯赔钱要跑", TRAFFIC_INJURY, "120"),  # happening now: a dispute later
        # full-width punctuation, spaces and a long story around it
        ("我在三墩工地干了半年，老板一分钱不给，我 现在 站在楼顶上，你们再不管我就跳下去！", SUICIDE, "110"),
    ],
)
def test_emergencies_are_spotted(text: str, kind: str, number: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, found
    assert found.first_number == number


@pytest.mark.parametrize(
    "text",
    [
        "万一着火后果不堪设想",
        "小区里消防通道被堵死了，全是电瓶车和杂物，万一着火后果不堪设想",
        "上个月还差点着火",
        "我老婆生孩子的时候在医院大出血切了子宫",
        "这是我的救命钱",
        "跳楼价甩卖",
        "热得要死了",
        "我妈每天都要喝药",
        "我想跳槽去别的公司",
        "油烟熏得我们上火",
        # a traffic accident told afterwards, a dangerous crossing, a hypothetical
        "去年出了车祸，保险公司一直不赔",
        "三个月前我被电动车撞了，对方不赔医药费",
        "我被车撞了以后保险公司到现在还不赔",
        "我对交通事故认定书不服",
        "交通事故赔偿法院判了，肇事司机跑了不给钱",
        "这个路口经常出车祸，能不能装个红绿灯",
        "万一出车祸谁负责",
        "外卖电动车天天在人行道上乱骑，差点撞到人",
        # help has come: the citizen goes on with the form
        "救护车来了，我接着填，住址是西湖区灵隐街道天竺路5号",
        "警察已经到了，我们继续吧",
        "",
        None,
    ],
)
def test_no_emergency(text: str | None) -> None:
    assert detect_emergency(text) is None


def test_most_emergency_examples_are_caught_without_the_classifier() -> None:
    emergencies = texts_of("emergency")
    caught = [t for t in emergencies if detect_emergency(t) is not None]
    assert len(caught) >= 0.9 * len(emergencies), sorted(set(emergencies) - set(caught))


def test_ordinary_messages_never_look_like_emergencies() -> None:
    # An intention to carry petrol or a knife to a government office (第26条) is meant to
    # give the emergency numbers first; nothing else in the data may.
    alarms = [t for t in texts_except("emergency", "prohibited_action") if detect_emergency(t) is not None]
    assert alarms == []


@pytest.mark.parametrize(
    ("text", "dismissed"),
    [
        ("万一着火后果不堪设想", True),
        ("去年出了车祸，保险公司一直不赔", True),
        ("跳楼价甩卖", True),
        ("楼下着火了", False),  # an emergency is not dismissed
        ("我想咨询一下低保", False),  # no emergency words at all
    ],
)
def test_dismissed_emergency_words(text: str, dismissed: bool) -> None:
    assert dismissed_emergency(text) is dismissed
