from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.rules.jurisdiction import (
    DEFAULT_FILE,
    Jurisdiction,
    PlaceMatch,
    load_jurisdiction,
    resolve_place,
    responsible_unit,
    use_file,
)
from bot.settings import load_settings
from bot.settings.actions import load_action_settings
from bot.settings.channels import load_channel_settings

# name, 12-digit statistical code, kind, government, short name
SUBDIVISIONS = [
    ("北山街道", "330106002000", "街道", "北山街道办事处", "北山"),
    ("西溪街道", "330106004000", "街道", "西溪街道办事处", "西溪"),
    ("翠苑街道", "330106005000", "街道", "翠苑街道办事处", "翠苑"),
    ("古荡街道", "330106007000", "街道", "古荡街道办事处", "古荡"),
    ("西湖街道", "330106008000", "街道", "西湖街道办事处", "西湖风景名胜区"),
    ("留下街道", "330106009000", "街道", "留下街道办事处", "留下"),
    ("转塘街道", "330106010000", "街道", "转塘街道办事处", "转塘"),
    ("蒋村街道", "330106011000", "街道", "蒋村街道办事处", "蒋村"),
    ("灵隐街道", "330106012000", "街道", "灵隐街道办事处", "灵隐"),
    ("文新街道", "330106013000", "街道", "文新街道办事处", "文新"),
    ("三墩镇", "330106109000", "镇", "三墩镇人民政府", "三墩"),
    ("双浦镇", "330106110000", "镇", "双浦镇人民政府", "双浦"),
]
NEIGHBOURS = [
    ("上城区", "上城", "杭州市上城区", "杭州市上城区信访局"),
    ("拱墅区", "拱墅", "杭州市拱墅区", "杭州市拱墅区信访局"),
    ("滨江区", "滨江", "杭州市滨江区", "杭州市滨江区信访局"),
    ("萧山区", "萧山", "杭州市萧山区", "杭州市萧山区信访局"),
    ("余杭区", "余杭", "杭州市余杭区", "杭州市余杭区信访局"),
    ("临平区", "临平", "杭州市临平区", "杭州市临平区信访局"),
    ("钱塘区", "钱塘", "杭州市钱塘区", "杭州市钱塘区信访局"),
    ("富阳区", "富阳", "杭州市富阳区", "杭州市富阳区信访局"),
    ("临安区", "临安", "杭州市临安区", "杭州市临安区信访局"),
    ("桐庐县", "桐庐", "杭州市桐庐县", "桐庐县信访局"),
    ("淳安县", "淳安", "杭州市淳安县", "淳安县信访局"),
    ("建德市", "建德", "杭州市建德市", "建德市信访局"),
]
ROUTING = {
    "城乡建设": "西湖区住房和城乡建设局",
    "劳动和社会保障": "西湖区人力资源和社会保障局",
    "市场监管": "西湖区市场监督管理局",
    "农村农业": "西湖区农业农村局",
    "自然资源": "杭州市规划和自然资源局西湖分局",
    "卫生健康": "西湖区卫生健康局",
    "教育": "西湖区教育局",
    "民政": "西湖区民政局",
    "交通运输": "西湖区交通运输局",
    "生态环境": "杭州市生态环境局西湖分局",
    "涉法涉诉": "西湖区委政法委员会",
    "纪检监察": "西湖区纪委区监委",
    "组织人事": "西湖区委组织部",
}


@pytest.fixture(scope="module")
def j() -> Jurisdiction:
    return load_jurisdiction()


# --- configuration ---------------------------------------------------------------------


def test_agency_facts(j: Jurisdiction) -> None:
    assert (j.name, j.short_name, j.code, j.agency) == ("杭州市西湖区", "西湖区", "330106", "杭州市西湖区信访局")
    assert (j.province, j.city) == ("浙江省", "杭州市")
    assert j.hotline == "0571-01234567"
    assert j.online_url.startswith("https://") and "example" in j.online_url
    assert "示例路" in j.address
    assert "工作日" in j.reception_hours
    assert j.data_retention.startswith("信访事项办结后保存5年") and j.data_retention_years == 5
    assert "30天后删除" in j.data_retention and j.unfiled_conversation_days == 30
    assert j.data_retention_years == 5


def test_subdivisions_and_codes(j: Jurisdiction) -> None:
    table = [(s.name, s.code, s.kind, s.government) for s in j.subdivisions]
    assert table == [row[:4] for row in SUBDIVISIONS]
    assert sum(s.kind == "街道" for s in j.subdivisions) == 10
    assert sum(s.kind == "镇" for s in j.subdivisions) == 2


def test_routing_table(j: Jurisdiction) -> None:
    assert {c.name: c.unit for c in j.categories if c.unit} == ROUTING
    assert j.category("其他") is not None and j.category("其他").unit is None  # type: ignore[union-attr]
    assert j.category("国土").name == "自然资源"  # type: ignore[union-attr]
    assert j.category("不存在") is None


def test_every_category_has_keywords_except_other(j: Jurisdiction) -> None:
    for rule in j.categories:
        assert rule.name == "其他" or len(rule.keywords) >= 10, rule.name


def test_load_is_cached_and_default_path_is_next_to_the_package(j: Jurisdiction) -> None:
    assert load_jurisdiction() is j
    assert load_jurisdiction(DEFAULT_FILE) is j
    assert Path(__file__).resolve().parents[2] / "bot" / "config" / "jurisdiction.yml" == DEFAULT_FILE


def _write_config(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "jurisdiction.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("load", [load_settings, load_action_settings, load_channel_settings])
def test_environment_variable_selects_another_file(load, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_config(tmp_path, agency="测试市测试区信访局")
    monkeypatch.setenv("JURISDICTION_FILE", str(path))
    use_file(load().jurisdiction_file)  # what each process does at start with its settings
    assert load_jurisdiction().agency == "测试市测试区信访局"
    monkeypatch.delenv("JURISDICTION_FILE")
    use_file(load().jurisdiction_file)
    assert load_jurisdiction().agency == "杭州市西湖区信访局"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"code": "33010"}, "not a 6-digit division code"),
        ({"subdivisions": [{"name": "甲街道", "code": "330107001000", "kind": "街道", "government": "甲"}]},
         "not a 12-digit code under 330106"),
        ({"subdivisions": [{"name": "甲街道", "code": "", "kind": "社区", "government": "甲"}]},
         "is not 街道/镇/乡"),
        ({"subdivisions": [{"name": "甲街道", "kind": "街道", "government": "甲"}] * 2},
         "duplicate names"),
        ({"categories": [{"name": "教育", "unit": "x", "overrides": {"乙镇": "y"}}]},
         "overrides name unknown"),
        ({"subdivisions": [{"name": "甲街道", "kind": "街道"}]}, "missing or malformed entry"),
    ],
)
def test_invalid_configuration_is_rejected(tmp_path: Path, changes: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        load_jurisdiction(_write_config(tmp_path, **changes))


# --- places ----------------------------------------------------------------------------


def _loose_forms(name: str, short: str) -> list[str]:
    return [
        name,
        short,
        f"{short}那边",
        f"在{short}",
        f"问题发生在{name}的一个小区里",
        f"西湖区{name}某某路88号",
        f"杭州市西湖区{short}",
        f" {short} ",
    ]


@pytest.mark.parametrize(("name", "code", "kind", "government", "short"), SUBDIVISIONS)
def test_every_subdivision_resolves_from_loose_forms(
    j: Jurisdiction, name: str, code: str, kind: str, government: str, short: str
) -> None:
    for text in _loose_forms(name, short):
        match = resolve_place(text, j)
        assert match == PlaceMatch("in", text.strip(), subdivision=name, subdivision_code=code), text


@pytest.mark.parametrize(
    ("text", "subdivision"),
    [
        ("文新那边", "文新街道"),
        ("三墩", "三墩镇"),
        ("就在三墩镇政府旁边", "三墩镇"),
        ("西湖区古荡街道古墩路", "古荡街道"),
        ("西湖街道", "西湖街道"),
        ("西湖风景名胜区", "西湖街道"),
        ("西湖景区里面", "西湖街道"),
        ("龙井村", "西湖街道"),
        ("浙大紫金港校区", "三墩镇"),
        ("云栖小镇", "转塘街道"),
        ("留下", "留下街道"),
        ("文新街道和古荡街道交界", "文新街道"),  # equally long: the first mentioned wins
        ("双浦镇钱塘江边", "双浦镇"),
    ],
)
def test_subdivision_examples(j: Jurisdiction, text: str, subdivision: str) -> None:
    match = resolve_place(text, j)
    assert (match.status, match.subdivision) == ("in", subdivision)


@pytest.mark.parametrize(
    "text",
    ["西湖区", "杭州市西湖区", "浙江省杭州市西湖区", "西湖边", "就在西湖旁边", "西湖", "西溪湿地", "西湖区某某路"],
)
def test_ours_without_subdivision(j: Jurisdiction, text: str) -> None:
    assert resolve_place(text, j) == PlaceMatch("in_unspecified", text)


@pytest.mark.parametrize(("full", "short", "area", "body"), NEIGHBOURS)
def test_every_other_district_of_the_city(j: Jurisdiction, full: str, short: str, area: str, body: str) -> None:
    for text in (full, short, f"{short}那边", f"杭州市{full}某某路", f"问题在{full}"):
        assert resolve_place(text, j) == PlaceMatch(
            "out", text, outside_area=area, responsible_body=body
        ), text


@pytest.mark.parametrize(
    ("text", "area", "body"),
    [
        ("余杭区良渚", "杭州市余杭区", "杭州市余杭区信访局"),
        ("良渚", "杭州市余杭区", "杭州市余杭区信访局"),
        ("拱墅", "杭州市拱墅区", "杭州市拱墅区信访局"),
        ("下城区", "杭州市拱墅区", "杭州市拱墅区信访局"),  # merged into 拱墅区 in 2021
        ("江干", "杭州市上城区", "杭州市上城区信访局"),  # merged into 上城区 in 2021
        ("下沙", "杭州市钱塘区", "杭州市钱塘区信访局"),
        ("滨江区长河街道", "杭州市滨江区", "杭州市滨江区信访局"),
        ("余杭区五常街道西溪湿地", "杭州市余杭区", "杭州市余杭区信访局"),
        ("宁波市海曙区", "宁波市", "宁波市当地的县（市、区）信访部门"),
        ("宁波", "宁波市", "宁波市当地的县（市、区）信访部门"),
        ("在浙江省温州市", "温州市", "温州市当地的县（市、区）信访部门"),
        ("上海", "上海市", "上海市当地的县（市、区）信访部门"),
        ("在马鞍山市", "马鞍山市", "马鞍山市当地的县（市、区）信访部门"),
        ("泰顺县", "泰顺县", "泰顺县当地的县（市、区）信访部门"),
        ("江苏", "江苏省", "江苏省当地的县（市、区）信访部门"),
        ("广西", "广西壮族自治区", "广西壮族自治区当地的县（市、区）信访部门"),
    ],
)
def test_other_areas(j: Jurisdiction, text: str, area: str, body: str) -> None:
    assert resolve_place(text, j) == PlaceMatch("out", text, outside_area=area, responsible_body=body)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "不知道", "杭州", "杭州市", "家附近的超市", "在农贸市场", "在城市花园", "某某路口", "钱塘江边"],
)
def test_unknown_places(j: Jurisdiction, text: str) -> None:
    assert resolve_place(text, j) == PlaceMatch("unknown", text.strip())


def test_full_width_and_spaces_are_normalized(j: Jurisdiction) -> None:
    match = resolve_place("西湖区　文新　街道", j)
    assert (match.status, match.subdivision, match.text) == ("in", "文新街道", "西湖区 文新 街道")


def test_default_jurisdiction_is_loaded() -> None:
    assert resolve_place("文新").subdivision == "文新街道"
    assert responsible_unit("教育", resolve_place("文新")) == "西湖区教育局"


# --- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "unit"), sorted(ROUTING.items()))
def test_routing_per_category(j: Jurisdiction, category: str, unit: str) -> None:
    assert responsible_unit(category, resolve_place("文新街道", j), j) == unit


@pytest.mark.parametrize(("name", "code", "kind", "government", "short"), SUBDIVISIONS)
def test_default_routing_is_the_subdivision_government(
    j: Jurisdiction, name: str, code: str, kind: str, government: str, short: str
) -> None:
    place = resolve_place(short, j)
    assert responsible_unit("其他", place, j) == government
    assert responsible_unit("没有这个分类", place, j) == government


def test_routing_override_per_place(j: Jurisdiction) -> None:
    assert responsible_unit("农村农业", resolve_place("三墩", j), j) == "三墩镇人民政府"
    assert responsible_unit("农村农业", resolve_place("双浦", j), j) == "双浦镇人民政府"
    assert responsible_unit("农村农业", resolve_place("转塘", j), j) == "西湖区农业农村局"


def test_routing_by_category_alias(j: Jurisdiction) -> None:
    assert responsible_unit("国土", resolve_place("文新", j), j) == "杭州市规划和自然资源局西湖分局"


@pytest.mark.parametrize("category", ["市场监管", "其他"])
def test_unspecified_or_unknown_place_goes_to_the_district_agency(j: Jurisdiction, category: str) -> None:
    assert responsible_unit(category, resolve_place("西湖区", j), j) == "杭州市西湖区信访局"
    assert responsible_unit(category, resolve_place("不知道", j), j) == "杭州市西湖区信访局"


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("余杭区良渚", "杭州市余杭区信访局（转送）"),
        ("拱墅", "杭州市拱墅区信访局（转送）"),
        ("宁波市海曙区", "宁波市当地的县（市、区）信访部门（转送）"),
    ],
)
def test_outside_matters_are_forwarded(j: Jurisdiction, text: str, unit: str) -> None:
    assert responsible_unit("市场监管", resolve_place(text, j), j) == unit


def test_outside_match_without_body_uses_the_template(j: Jurisdiction) -> None:
    place = PlaceMatch("out", "绍兴", outside_area="绍兴市")
    assert responsible_unit("教育", place, j) == "绍兴市当地的县（市、区）信访部门（转送）"
