"""Early warning (bot/rules/early_warning.py): group-visit cues, clusters and their alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.rules.early_warning import (
    DEFAULT_FILE,
    CaseLite,
    WarningConfig,
    find_clusters,
    load_warning_config,
    mentions_group_visit,
)

GROUP_VISITS = [
    "我们准备集体上访",
    "明天我们几个工友一起去区政府门口",
    "大家商量好了一起去信访局反映",
    "下周组织工友去区政府讨个说法",
    "再不给钱我们就去拉横幅",
    "我们要去公司堵门",
    "几十个业主准备到区政府门口静坐",
    "村民们打算一起到市里上访",
    "叫上老乡们一起去讨薪",
    "准备拦领导的车",
    "我们要集体到街道去",
    "到时候举牌子去售楼处",
    "召集业主去开发商那里讨说法",
    "大家约好周一一起上访",
    "我们打算组团去北京上访",
    "业主们已经在小区门口聚集了",
    "准备围堵项目部",
    "工友们说好一块儿去镇里要个说法",
]
NOT_GROUP_VISITS = [
    "去年集体宿舍漏水",
    "我们小区集体供暖一直不热",
    "一起吃饭的时候说的",
    "我们二十户联名写了一封信",
    "联名信已经寄给区信访局了",
    "上班路上天天堵车",
    "下水道堵塞好几个月了",
    "我想反映组织人事方面的问题",
    "组织部门对我的职称评定有误",
    "公司组织架构调整把我们辞退了",
    "我自己去过一次信访局",
    "村集体经济分红不公开",
    "集体土地被征收补偿不公",
    "和老婆一起去医院看病被误诊",
    "我们几个邻居一起凑钱修了路灯",
    "楼上装修冲击钻声音太大",
    "电梯里一起被困了三个人",
    "孩子们在一起上学",
    "希望领导能来现场看看",
    "",
]


@pytest.mark.parametrize("text", GROUP_VISITS)
def test_mentions_group_visit(text: str) -> None:
    assert mentions_group_visit(text)


@pytest.mark.parametrize("text", NOT_GROUP_VISITS)
def test_does_not_mention_group_visit(text: str) -> None:
    assert not mentions_group_visit(text)


# --- a synthetic stream ----------------------------------------------------------------------

DAY0 = date(2024, 5, 6)
WAGE_UNIT = "西湖区人力资源和社会保障局"
# (day, respondent, facts, request): twelve workers of one site in 三墩镇 over two weeks.
WAGES = [
    (0, "杭州宏达建筑工程有限公司", "我在三墩镇振华路宏达的工地干钢筋工，老板从三月开始就没发工资，欠我一万二。", "请帮我把工资要回来。"),
    (2, "宏达建筑", "振华路那个工地拖欠我们钢筋工的工资，三个多月了一分没拿到。", "要求公司发工资。"),
    (4, None, "三墩振华路的工地欠薪，包工头说上面没拨款，我的工钱八千多还没结。", "希望政府帮忙讨薪。"),
    (5, "宏达建筑公司", "我是宏达工地上的木工，从3月份到现在工资都没发，找项目部也没人管。", "请督促宏达建筑支付工资。"),
    (6, "包工头老陈", "老陈带我们在振华路工地干活，他说宏达不给他钱，他也没钱发工资，拖欠我们三个月了。", "要求结清工钱。"),
    (8, "杭州宏达建筑", "工地上干了四个月活，工资一直拖着不给，家里孩子学费都交不上了。", "请帮农民工讨回血汗钱。"),
    (9, None, "振华路工地的泥瓦工也被欠了工资，我一个人就被欠了1.5万，问项目经理只说等等。", "要求尽快发工资。"),
    (10, "宏达建筑工程有限公司", "反映宏达建筑拖欠农民工工资问题：本人自3月起在振华路项目做钢筋，工资未结算。", "请劳动监察部门督促支付。"),
    (11, "宏达建筑", "我们这批工人工资被拖了好几个月，老板电话不接，项目部大门也关了。", "希望政府出面帮我们要工资。"),
    (12, None, "三墩振华路工地拖欠工资，我是做木工的，欠了我九千块，工友们也都没拿到。", "请求帮忙讨薪。"),
    (13, "杭州宏达建筑工程有限公司", "宏达的工地从三月到现在没发过工资，我们钢筋班组的人都在等钱回家。", "要求支付拖欠的工资。"),
    (14, "宏达建筑", "领导您好，振华路宏达工地欠我们工资快四个月了，我一个人就一万多，实在等不下去了。", "请尽快帮我们解决工资问题。"),
]
# (category, division, respondent, facts, request, unit): one other matter a day.
NOISE = [
    ("城乡建设", "文新街道", "绿苑物业", "丹桂花园3幢电梯一个月坏了三次，老人被困了四十分钟，物业不修。", "要求物业修好电梯。", WAGE_UNIT.replace("人力资源和社会保障", "住房和城乡建设")),
    ("生态环境", "西溪街道", "夜色酒吧", "楼下酒吧每天晚上音响开到凌晨两点，低音炮吵得睡不着。", "要求酒吧降低音量。", "杭州市生态环境局西湖分局"),
    ("民政", "留下街道", None, "我六十八岁，残疾，一个人住，低保被取消了，说儿子有车。", "要求恢复低保。", "西湖区民政局"),
    ("教育", "文新街道", "区教育局", "孩子户口和房子都在学区，一年级却被统筹到三公里外的学校。", "要求就近入学。", "西湖区教育局"),
    ("卫生健康", "古荡街道", "仁和医院", "我妈在医院做胆囊手术后大出血，又做了第二次手术，医院不给完整病历。", "要求封存病历、鉴定责任。", "西湖区卫生健康局"),
    ("市场监管", "古荡街道", "力健健身", "健身房突然关门，年卡花了四千八，老板联系不上。", "要求退还会费。", "西湖区市场监督管理局"),
    ("交通运输", "留下街道", None, "屏峰路埋管道挖开后没修好，全是坑，骑电动车的摔了好几个。", "要求尽快修路。", "西湖区交通运输局"),
    ("自然资源", "转塘街道", None, "龙坞山脚下每天晚上有渣土车偷倒建筑垃圾，树都被埋了。", "要求查处偷倒。", "杭州市规划和自然资源局西湖分局"),
    ("农村农业", "双浦镇", "新沙村村委会", "我是外嫁女，户口还在村里，今年分红把我和孩子都排除了。", "要求补发分红。", "双浦镇人民政府"),
    ("劳动和社会保障", "翠苑街道", "区人社局", "我在安徽交了十二年养老保险，转移接续半年了还没转过来，马上要退休。", "要求尽快办好转移。", WAGE_UNIT),
    ("生态环境", "三墩镇", None, "沿山河的水又黑又臭，有人往河里直排生活污水。", "要求治理河道。", "杭州市生态环境局西湖分局"),
    ("城乡建设", "转塘街道", "锦绣置业", "锦绣家园三年前就交房了，房产证到现在还办不下来。", "要求开发商尽快办证。", "西湖区住房和城乡建设局"),
    ("市场监管", "翠苑街道", "百佳乐超市", "在超市买的牛奶过期了还在卖，生产日期被贴纸盖住了。", "要求十倍赔偿。", "西湖区市场监督管理局"),
    ("民政", "灵隐街道", "福寿养老院", "我父亲住在养老院，护工不给他翻身，背上长了褥疮。", "要求养老院整改。", "西湖区民政局"),
    ("城乡建设", "蒋村街道", None, "楼下那套房子被隔成八九间出租，住了二十多个人，电瓶车在楼道里充电。", "要求整治群租。", "西湖区住房和城乡建设局"),
]


def wage_cases() -> list[CaseLite]:
    return [
        CaseLite(
            id=100 + n, case_no=f"XF2024-W{n:02d}", created_on=DAY0 + timedelta(days=day), category="劳动和社会保障",
            respondent=respondent, location_division="三墩镇", location_text="三墩镇振华路工地", facts=facts,
            request=request, group_size=1, responsible_unit=WAGE_UNIT, person_key=f"worker-{n}",
        )
        for n, (day, respondent, facts, request) in enumerate(WAGES, start=1)
    ]


def noise_cases() -> list[CaseLite]:
    return [
        CaseLite(
            id=200 + day, case_no=f"XF2024-N{day:02d}", created_on=DAY0 + timedelta(days=day), category=category,
            respondent=respondent, location_division=division, location_text=division, facts=facts, request=request,
            group_size=1 + day % 3, responsible_unit=unit, person_key=f"resident-{day}",
        )
        for day, (category, division, respondent, facts, request, unit) in enumerate(NOISE)
    ]


def test_a_wage_dispute_alerts_the_day_its_third_case_within_seven_days_arrives() -> None:
    wages, noise = wage_cases(), noise_cases()
    noise_ids = {c.id for c in noise}
    first_alert = None
    for day in range(15):
        today = DAY0 + timedelta(days=day)
        known = [c for c in wages + noise if c.created_on <= today]
        clusters = find_clusters(known, today)
        wage_ids = [c.id for c in wages if c.created_on <= today]
        if not clusters:
            continue
        first_alert = day if first_alert is None else first_alert
        assert len(clusters) == 1, (day, [c.case_nos for c in clusters])  # noise never alerts
        cluster = clusters[0]
        assert cluster.case_ids == wage_ids, day  # every wage case so far, no noise case
        assert not noise_ids & set(cluster.case_ids)
        assert cluster.key == "XF2024-W01"
    assert first_alert == 4  # cases on days 0, 2 and 4


def test_the_grown_cluster() -> None:
    today = DAY0 + timedelta(days=14)
    (cluster,) = find_clusters(wage_cases() + noise_cases(), today)
    assert cluster.case_nos == [f"XF2024-W{n:02d}" for n in range(1, 13)]
    assert cluster.reasons == ["7日内3件及以上"]
    assert cluster.label == "三墩镇·劳动和社会保障"  # one case names the foreman, not the company
    assert (cluster.first_on, cluster.last_on) == (DAY0, today)
    assert cluster.cases_in_window == 7  # days 8 to 14
    assert cluster.people == 12 and cluster.persons == 12
    assert cluster.units == [WAGE_UNIT]
    assert len(cluster.trend) == 30 and cluster.trend[-1] == (today, 1)
    assert cluster.trend[0][0] == today - timedelta(days=29)
    assert sum(count for _, count in cluster.trend) == 12


def test_noise_alone_never_alerts() -> None:
    noise = noise_cases()
    for day in range(15):
        today = DAY0 + timedelta(days=day)
        assert find_clusters([c for c in noise if c.created_on <= today], today) == []


def test_a_single_case_involving_six_people_alerts() -> None:
    (noise,) = noise_cases()[:1]
    case = replace(noise, group_size=6)
    (cluster,) = find_clusters([case], case.created_on)
    assert cluster.case_ids == [case.id] and cluster.reasons == ["涉及5人及以上"]
    assert cluster.label == "绿苑物业" and cluster.people == 6 and cluster.persons == 1


def test_a_single_case_announcing_a_group_visit_alerts() -> None:
    case = replace(wage_cases()[0], facts="老板欠我们三个月工资，明天我们几个工友一起去区政府门口。")
    (cluster,) = find_clusters([case], case.created_on)
    assert cluster.reasons == ["提到集体走访或聚集"] and cluster.label == "杭州宏达建筑工程有限公司"


def test_an_old_burst_that_went_quiet_does_not_alert() -> None:
    burst = [replace(c, created_on=DAY0 + timedelta(days=day)) for c, day in zip(wage_cases()[:3], (0, 1, 2))]
    assert [c.key for c in find_clusters(burst, DAY0 + timedelta(days=2))] == ["XF2024-W01"]
    assert find_clusters(burst, DAY0 + timedelta(days=8))[0].cases_in_window == 3  # 6 days after the last
    assert find_clusters(burst, DAY0 + timedelta(days=9)) == []  # window_days after the last case
    assert find_clusters(burst, DAY0 + timedelta(days=22)) == []  # 20 days after, nothing since


def test_cases_outside_the_lookback_period_are_ignored() -> None:
    case = replace(noise_cases()[0], group_size=8)
    assert find_clusters([case], case.created_on + timedelta(days=29))
    assert find_clusters([case], case.created_on + timedelta(days=30)) == []
    assert find_clusters([case], case.created_on - timedelta(days=1)) == []  # not created yet


def test_configured_thresholds_apply() -> None:
    wages = wage_cases()[:3]  # days 0, 2 and 4
    today = DAY0 + timedelta(days=4)
    assert find_clusters(wages, today, WarningConfig(min_cases=4)) == []
    assert find_clusters(wages, today, WarningConfig(window_days=4)) == []
    (cluster,) = find_clusters(wages, today, WarningConfig(window_days=5, min_cases=3, lookback_days=10))
    assert cluster.reasons == ["5日内3件及以上"] and len(cluster.trend) == 10
    single = replace(noise_cases()[0], group_size=3)
    assert find_clusters([single], single.created_on, WarningConfig(min_group_size=3))[0].reasons == ["涉及3人及以上"]


# --- configuration ---------------------------------------------------------------------------


def test_the_configuration_file_holds_the_defaults() -> None:
    assert DEFAULT_FILE.name == "early_warning.yml"
    assert load_warning_config() == WarningConfig()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "early_warning.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_left_out_keeps_its_default(tmp_path: Path) -> None:
    assert load_warning_config(write(tmp_path, "min_cases: 4\n")) == WarningConfig(min_cases=4)
    assert load_warning_config(write(tmp_path, "")) == WarningConfig()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("window_day: 7\n", "window_day"),
        ("window_days: 0\n", "window_days"),
        ("window_days: 7.5\n", "window_days"),
        ("min_cases: '3'\n", "min_cases"),
        ("min_cases: 1\n", "min_cases"),
        ("min_group_size: true\n", "min_group_size"),
        ("lookback_days: -30\n", "lookback_days"),
        ("lookback_days: 5\n", "lookback_days (5) must be at least window_days (7)"),
        ("similarity: 1.5\n", "similarity"),
        ("similarity: 0\n", "similarity"),
        ("similarity: high\n", "similarity"),
        ("similarity_alone: 0.05\n", "similarity_alone (0.05) must be at least similarity"),
        ("- window_days: 7\n", "expected a mapping"),
    ],
)
def test_bad_configuration_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as error:
        load_warning_config(path)
    assert fragment in str(error.value) and str(path) in str(error.value)
