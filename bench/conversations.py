"""Scripted citizens: complete intake conversations as (message, expected fragments) turns.

The load driver (``bench/load.py``) plays them at scale and the production failure tests
(``tests/production``) play them against the real stores, so the benchmark's workload is
checked by the test suite: when the conversation changes, a test fails here first.

Each citizen gets distinct personal data (a valid resident ID number with its GB 11643 check
digit, a mobile number) so that cases are told apart in the store, and the texts follow the
end-to-end conversations of ``tests/e2e``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

CASE_MARK = "信访件编号"
SUMMARY_MARK = "请核对您的登记信息"

# Ordinary mobile prefixes (14x holds data-only and IoT numbers, which are not contact numbers).
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "187", "188", "189", "199")
NAMES = ("张建国", "李秀兰", "王志强", "刘芳", "陈静", "杨光明", "赵敏", "黄海涛", "周丽娟", "吴国华")


@dataclass(frozen=True)
class Turn:
    message: str
    expect: tuple[str, ...]  # every fragment must appear in the replies

    def missing(self, reply: str) -> list[str]:
        return [fragment for fragment in self.expect if fragment not in reply]


@dataclass(frozen=True)
class Citizen:
    name: str
    id_number: str
    phone: str


def resident_id(rng: random.Random, region: str = "330106") -> str:
    """A valid 18-digit resident ID number (region, past birth date, check digit)."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    body = f"{region}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # the function skips the last character


def make_citizen(rng: random.Random) -> Citizen:
    phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(0, 10**8):08d}"
    return Citizen(rng.choice(NAMES), resident_id(rng), phone)


def wage_arrears(c: Citizen) -> list[Turn]:
    """Wages owed on a building site in 三墩 (place and facts come with the description)."""
    return [
        Turn("你好", ("智能助手",)),
        Turn("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱", ("是否同意",)),
        Turn("同意", ("姓名",)),
        Turn(c.name, ("身份证号码",)),
        Turn(c.id_number, ("手机号码",)),
        Turn(c.phone, ("住址",)),
        Turn("西湖区三墩镇振华路100号", ("劳动和社会保障",)),
        Turn("对的", ("被反映对象",)),
        Turn("杭州某某建筑劳务公司的包工头", ("诉求",)),
        Turn("要求把拖欠的三万二千元工资全部结清", ("第一次反映",)),
        Turn("第一次", ("多少人",)),
        Turn("就我一个人", (SUMMARY_MARK,)),
        Turn("确认提交", (CASE_MARK,)),
        Turn("查一下我的信访件", ("已登记",)),
    ]


def leaking_roof(c: Citizen) -> list[Turn]:
    """A flat bought in 余杭 (outside the jurisdiction): explained, recorded, transferred."""
    return [
        Turn("我在余杭区良渚买的房子漏水，开发商一直拖着不修", ("属地管理", "是否同意")),
        Turn("同意", ("姓名",)),
        Turn(c.name, ("身份证号码",)),
        Turn(c.id_number, ("手机号码",)),
        Turn(c.phone, ("住址",)),
        Turn("西湖区翠苑街道文二路1号", ("「城乡建设」",)),
        Turn("对", ("被反映对象",)),
        Turn("某某房地产开发有限公司", ("诉求",)),
        Turn("要求开发商尽快维修漏水", ("第一次反映",)),
        Turn("是第一次", ("多少人",)),
        Turn("我一个人", (SUMMARY_MARK,)),
        Turn("确认提交", (CASE_MARK,)),
    ]


SCRIPTS = (wage_arrears, leaking_roof)


def until_summary(turns: list[Turn]) -> list[Turn]:
    """The turns before the confirmation (the conversation stops at the summary)."""
    index = next(i for i, t in enumerate(turns) if SUMMARY_MARK in t.expect)
    return turns[: index + 1]


def conversation(rng: random.Random) -> tuple[Citizen, list[Turn]]:
    citizen = make_citizen(rng)
    return citizen, rng.choice(SCRIPTS)(citizen)
