"""Early warning (排查预警) and the 矛盾台账, driven by a realistic stream of petitions through the
API: a wage-arrears dispute at one construction site growing from 1 to 12 workers over two
weeks, with unrelated petitions every day. The alert must appear on the day the third
petition within seven days arrives, hold exactly the dispute's cases, and never the noise.

Runs the real back office app against SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

from stdnum.cn import ric

from bot.rules.deadlines import TZ
from tests.api.helpers import case_body, post_case
from tests.console.conftest import (  # noqa: F401  (fixtures used by name)
    Staff,
    anonymous,
    cheap_password_hashes,
    console_env,
    console_settings,
    rasa,
    server,
    staff,
    tracker,
)
from tests.security.test_unit_scoping import new_account

START = date(2026, 11, 2)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙"
# (day offset, how the worker tells it, respondent as written, group size)
WAGE_STREAM = [
    (0, "我在三墩西园路宏达建筑的工地干钢筋工，干了四个月，工资一分没拿到，包工头说公司没打款。", "宏达建筑", 1),
    (2, "西园路那个工地的老板拖欠我们工资，我做了三个多月的泥水工，两万多块钱一直不给。", "杭州宏达建筑工程有限公司", 1),
    (3, "宏达建筑公司欠我木工工钱一万六千元，年初开工到现在，项目经理天天推。", "宏达建筑公司", 1),
    (5, "三墩镇西园路工地拖欠农民工工资，我是架子工，欠了两万四，找不到人。", "宏达建筑", 1),
    (6, "在宏达的工地上班半年了，工资一直拖着，说等工程款下来再发，家里等钱用。", "杭州宏达建筑工程有限公司", 1),
    (8, "我们几个水电工在西园路工地干活，宏达建筑拖欠工资三个月，每人一万多。", "宏达建筑工程公司", 3),
    (9, "工地上的工资到现在都没结，宏达建筑的包工头跑了，我一共被欠了一万九。", "宏达建筑", 1),
    (11, "宏达建筑西园路项目欠薪，我是电焊工，欠款两万一千元，要过年了急需用钱。", "宏达建筑", 1),
    (12, "我老公在宏达建筑西园路工地干了五个月，工资一分没拿，人都急病了。", "宏达建筑有限公司", 1),
    (13, "宏达建筑拖欠我们十二个工友的工资，大家商量好了下周一起去区政府门口讨说法。", "杭州宏达建筑工程有限公司", 12),
]
NOISE = [
    dict(location="西湖区文新街道", category="城乡建设", respondent="文新花园物业",
         facts="小区电梯坏了一个多月没人修，老人上下楼很困难。", request="尽快修好电梯。"),
    dict(location="西湖区古荡街道", category="市场监管", respondent="某某健身会所",
         facts="办了五千块的健身年卡，店突然关门，老板联系不上。", request="退还剩余卡费。"),
    dict(location="西湖区转塘街道", category="生态环境", respondent="转塘某化工厂",
         facts="工厂晚上偷偷排放刺鼻的废气，附近居民头晕恶心。", request="查处违法排放。"),
    dict(location="西湖区蒋村街道", category="教育", respondent="蒋村某小学",
         facts="孩子符合学区条件但入学申请被退回，学校说名额满了。", request="按政策安排入学。"),
    dict(location="西湖区北山街道", category="民政", respondent=None,
         facts="家里老人瘫痪在床，申请低保两次都没有批下来。", request="重新审核低保申请。"),
    dict(location="西湖区留下街道", category="交通运输", respondent="留下公交站",
         facts="留下公交站的公交车经常不按时刻表发车，等一个小时。", request="按时发车。"),
    dict(location="西湖区翠苑街道", category="卫生健康", respondent="某社区卫生服务中心",
         facts="在社区医院打针后手臂红肿，医院不承认有问题。", request="查明原因并赔偿医药费。"),
    dict(location="西湖区灵隐街道", category="自然资源(国土)", respondent=None,
         facts="老房子的不动产证办了八个月还没拿到，窗口说资料在审核。", request="尽快办理不动产证。"),
    dict(location="西湖区西溪街道", category="城乡建设", respondent="西溪某酒吧",
         facts="楼下酒吧每天放音乐到凌晨两点，根本睡不着。", request="整治噪音。"),
    dict(location="西湖区双浦镇", category="农村农业", respondent="双浦某村委会",
         facts="村里的土地流转租金三年没有发放，村委会说账上没钱。", request="发放拖欠的流转租金。"),
    dict(location="西湖区三墩镇", category="城乡建设", respondent="三墩某小区开发商",
         facts="买的新房交付后墙面大面积开裂，开发商拒绝维修。", request="开发商承担维修责任。"),
    dict(location="西湖区古荡街道", category="劳动和社会保障", respondent=None,
         facts="养老保险从外地转过来半年了还没有接续成功，影响退休。", request="尽快办理养老保险转移接续。"),
    dict(location="西湖区文新街道", category="交通运输", respondent=None,
         facts="文一西路路口的红绿灯坏了三天，上下班特别危险。", request="尽快修复信号灯。"),
    dict(location="西湖区转塘街道", category="城乡建设", respondent="转塘某物业公司",
         facts="物业擅自把小区绿地改成收费停车位。", request="恢复绿地。"),
]


def id_number(seq: int, birth: str = "19800101") -> str:
    body = f"330106{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function expects a placeholder check digit


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ).astimezone(timezone.utc)


async def alerts(member: Staff) -> list[dict]:
    response = await member.client.get("/api/v1/warnings")
    assert response.status == 200, await response.text()
    return (await response.json())["warnings"]


async def test_a_growing_wage_dispute_raises_the_alert_on_the_right_day(server, staff, clock) -> None:
    officer = await staff("officer")
    admin = await staff("admin")
    wage_cases: list[str] = []
    noise_cases: list[str] = []
    first_alert_day = None
    seen: dict[int, list[dict]] = {}
    for offset in range(14):
        day = START + timedelta(days=offset)
        noise = NOISE[offset % len(NOISE)]
        clock.now = at(day, 9)
        b = case_body(conversation_id=f"noise-{offset}", **noise)
        b["petitioner"].update(name="市民" + "甲乙丙丁戊己庚辛壬癸子丑寅卯"[offset], id_number=id_number(500 + offset), phone=f"1350000{offset:04d}")
        response = await post_case(officer.client, b)
        assert response.status == 201, await response.text()
        noise_cases.append((await response.json())["case"]["case_no"])
        for n, (when, facts, respondent, group) in enumerate(WAGE_STREAM):
            if when != offset:
                continue
            clock.now = at(day, 15)
            b = case_body(conversation_id=f"wage-{n}", location="西湖区三墩镇西园路工地", category="劳动和社会保障",
                          respondent=respondent, facts=facts, request="要求尽快结清拖欠的工资。", group_size=group)
            b["petitioner"].update(name=f"{SURNAMES[n]}师傅", id_number=id_number(100 + n), phone=f"1380000{n:04d}")
            response = await post_case(officer.client, b)
            assert response.status == 201, await response.text()
            wage_cases.append((await response.json())["case"]["case_no"])
        clock.now = at(day, 20)
        found = await alerts(officer)
        seen[offset] = found
        if found and first_alert_day is None:
            first_alert_day = offset
        # The noise never raises an alert, and never joins the dispute.
        for alert in found:
            assert not set(alert["case_nos"]) & set(noise_cases), (day, alert)

    # Day 3 is the day the third petition within seven days arrived.
    assert first_alert_day == 3
    assert [a["case_nos"] for a in seen[2]] == []
    (alert,) = seen[3]
    assert alert["case_nos"] == wage_cases[:3]
    assert "7日内3件及以上" in alert["reasons"]
    (alert,) = seen[13]
    assert alert["case_nos"] == wage_cases  # all ten petitions, twelve workers behind the last
    assert alert["key"] == wage_cases[0]
    assert "涉及5人及以上" in alert["reasons"] and "提到集体走访或聚集" in alert["reasons"]
    assert alert["people"] >= 12
    assert alert["units"] == ["西湖区人力资源和社会保障局"]
    assert sum(n for _, n in alert["trend"]) == len(wage_cases)

    # The 信访局's dashboard lists it; the cluster page shows the cases and the trend data.
    _, page = await officer.page("/console/")
    assert f'data-key="{wage_cases[0]}"' in page
    status, page = await officer.page(f"/console/warnings/{wage_cases[0]}")
    assert status == 200
    for case_no in wage_cases:
        assert f'data-case-no="{case_no}"' in page
    for case_no in noise_cases:
        assert case_no not in page

    # A unit's officer does not see the alert (a cluster crosses units): refused, not hidden.
    clients: list = []
    try:
        unit_officer = await new_account(server, admin, clients, "unit-officer", "officer", "三墩镇人民政府")
        response = await unit_officer.client.get("/api/v1/warnings")
        assert response.status == 403
        status, _ = await unit_officer.page("/console/warnings")
        assert status == 403
        _, page = await unit_officer.page("/console/")
        assert "排查预警" not in page
    finally:
        for client in clients:  # closing a client stops the shared test server: last
            await client.close()


async def test_ledger_from_an_alert_with_steps_overdue_and_exports(server, staff, clock) -> None:
    officer = await staff("officer")
    clock.now = at(START, 10)
    for n, (_, facts, respondent, group) in enumerate(WAGE_STREAM[:3]):
        b = case_body(conversation_id=f"wage-{n}", location="西湖区三墩镇西园路工地", category="劳动和社会保障",
                      respondent=respondent, facts=facts, request="要求结清工资。", group_size=group)
        b["petitioner"].update(name=f"{SURNAMES[n]}师傅", id_number=id_number(100 + n), phone=f"1380000{n:04d}")
        assert (await post_case(officer.client, b)).status == 201
    (alert,) = await alerts(officer)
    key = alert["key"]
    await officer.page(f"/console/warnings/{key}")

    # A missing leader is explained, and nothing is stored.
    response = await officer.post("/console/ledger", {"cluster": key, "title": "宏达建筑欠薪", "leader": "",
                                                     "unit": "西湖区人力资源和社会保障局", "risk": "high"})
    assert response.status == 422 and "请填写包案领导" in await response.text()

    response = await officer.post("/console/ledger", {
        "cluster": key, "title": "宏达建筑西园路项目欠薪", "leader": "副区长 周某",
        "unit": "西湖区人力资源和社会保障局", "risk": "high", "summary": "三名工人反映欠薪。",
        "first_step": "约谈宏达建筑负责人", "first_step_due": (START + timedelta(days=3)).isoformat(),
    })
    assert response.status == 303, await response.text()
    entry_url = response.headers["Location"].split("?")[0]
    status, page = await officer.page(entry_url)
    assert status == 200 and "副区长 周某" in page and "约谈宏达建筑负责人" in page
    assert "督办" not in page
    for case_no in alert["case_nos"]:
        assert case_no in page

    # The alert now points to its ledger entry.
    (alert,) = await alerts(officer)
    assert alert["ledger_entry"] == int(entry_url.rsplit("/", 1)[1])

    # Four days later the step is not done: 督办.
    clock.now = at(START + timedelta(days=4), 10)
    status, page = await officer.page(entry_url)
    assert 'id="ledger-overdue"' in page
    _, listing = await officer.page("/console/ledger")
    assert "督办 1" in listing
    response = await officer.client.get("/console/ledger.csv")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "名称", "包案领导"]
    assert rows[1][1:6] == ["宏达建筑西园路项目欠薪", "副区长 周某", "西湖区人力资源和社会保障局", "高", "化解中"]
    assert "约谈宏达建筑负责人" in rows[1][8] and rows[1][8].startswith("督办")
    status, printable = await officer.page("/console/ledger/print")
    assert status == 200 and "宏达建筑西园路项目欠薪" in printable

    # Done, and the status moves on.
    step_id = __import__("re").search(r"/steps/(\d+)/done", page).group(1)
    response = await officer.post(f"{entry_url}/steps/{step_id}/done")
    assert response.status == 303
    response = await officer.post(f"{entry_url}/status", {"status": "resolved"})
    assert response.status == 303
    _, page = await officer.page(entry_url)
    assert 'id="ledger-overdue"' not in page and "已化解" in page
