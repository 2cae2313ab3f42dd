from __future__ import annotations

import pytest

from bot.rules.numbers import MAX_PEOPLE, PeopleCount, parse_people_count

P, H = "人", "户"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one person
        ("就我一个", PeopleCount(1, False, P)),
        ("我自己", PeopleCount(1, False, P)),
        ("本人", PeopleCount(1, False, P)),
        ("一个人", PeopleCount(1, False, P)),
        ("只有我", PeopleCount(1, False, P)),
        ("1", PeopleCount(1, False, P)),
        # couples
        ("我们夫妻俩", PeopleCount(2, False, P)),
        ("两口子", PeopleCount(2, False, P)),
        ("老两口", PeopleCount(2, False, P)),
        ("我和我老婆", PeopleCount(2, False, P)),
        ("我们俩", PeopleCount(2, False, P)),
        # exact counts
        ("五个人", PeopleCount(5, False, P)),
        ("35人", PeopleCount(35, False, P)),
        ("３５人", PeopleCount(35, False, P)),
        ("三十五个人", PeopleCount(35, False, P)),
        ("一百二十人", PeopleCount(120, False, P)),
        ("两千户", PeopleCount(2000, False, H)),
        ("20户", PeopleCount(20, False, H)),
        ("3户人家", PeopleCount(3, False, H)),
        ("一家三口", PeopleCount(3, False, P)),
        ("我们仨", PeopleCount(3, False, P)),
        ("12名工人", PeopleCount(12, False, P)),
        ("30", PeopleCount(30, False, P)),
        ("一共30个", PeopleCount(30, False, P)),
        ("楼上3个人", PeopleCount(3, False, P)),
        # approximate counts keep the lower bound
        ("二十多人", PeopleCount(20, True, P)),
        ("二十来个", PeopleCount(20, True, P)),
        ("20多个", PeopleCount(20, True, P)),
        ("30余人", PeopleCount(30, True, P)),
        ("十几户", PeopleCount(10, True, H)),
        ("十几家商户", PeopleCount(10, True, H)),
        ("三四个人", PeopleCount(3, True, P)),
        ("两三个", PeopleCount(2, True, P)),
        ("一两个", PeopleCount(1, True, P)),
        ("三五个", PeopleCount(3, True, P)),
        ("十五六个人", PeopleCount(15, True, P)),
        ("五六十人", PeopleCount(50, True, P)),
        ("二三十户", PeopleCount(20, True, H)),
        ("上百人", PeopleCount(100, True, P)),
        ("上千人", PeopleCount(1000, True, P)),
        ("百来人", PeopleCount(100, True, P)),
        ("近百人", PeopleCount(100, True, P)),
        ("几十人", PeopleCount(10, True, P)),
        ("好几十人", PeopleCount(10, True, P)),
        ("数百人", PeopleCount(100, True, P)),
        ("10几个人", PeopleCount(10, True, P)),
        ("两百多户", PeopleCount(200, True, H)),
        ("1万多人", PeopleCount(10000, True, P)),
        ("30人左右", PeopleCount(30, True, P)),
        ("大概有二十个", PeopleCount(20, True, P)),
        ("50多名工人", PeopleCount(50, True, P)),
        ("我们是3栋的20多户业主", PeopleCount(20, True, H)),
        ("全村200多户，1000多人", PeopleCount(1000, True, P)),  # people beat households
        # capped
        ("一千万人", PeopleCount(MAX_PEOPLE, True, P)),
        ("2000000人", PeopleCount(MAX_PEOPLE, True, P)),
        # unclear
        ("全村", None),
        ("整个小区", None),
        ("很多人", None),
        ("几个人", None),
        ("一个小区的", None),
        ("2023年3栋", None),
        ("0人", None),
        ("啊啊啊", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_people_count(text: str, expected: PeopleCount | None) -> None:
    assert parse_people_count(text) == expected


def test_cap_is_one_million() -> None:
    assert MAX_PEOPLE == 1_000_000
    assert parse_people_count("1000000人") == PeopleCount(1_000_000, False, P)
