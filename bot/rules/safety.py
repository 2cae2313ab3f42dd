"""Emergencies spotted in any message, whatever the classifier makes of it.

A citizen in danger must be told the emergency numbers first, before any question of a form:
someone threatening to take their own life, violence going on, a fire, a traffic accident
(122, and 120 when someone is hurt), a medical emergency.
The classifier has an ``emergency`` intent; this module is the deterministic safety net
beside it (used by ``actions.common.is_answer_to`` and by the emergency handling).

Only present or threatened danger counts: a hypothetical ("万一着火") or money for a cure
("救命钱") is not an emergency. When in doubt the net fires: giving the numbers once too
often costs a sentence, missing them can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.rules.text import normalize_text

SUICIDE = "suicide"
VIOLENCE = "violence"
FIRE = "fire"
TRAFFIC = "traffic"  # a traffic accident: 122 (交通事故报警)
TRAFFIC_INJURY = "traffic_injury"  # a traffic accident with someone hurt: 120, then 122
MEDICAL = "medical"

_VEHICLES = "汽车|轿车|货车|卡车|大货车|电动车|电瓶车|摩托车|渣土车|公交车|出租车|面包车|三轮车"

# Checked in this order: the first kind that matches decides which number is named first
# (a traffic accident before violence: "出车祸了，出人命了" needs 122 and 120, not 110 alone).
_PATTERNS: dict[str, tuple[str, ...]] = {
    SUICIDE: (
        r"自杀|自尽|轻生|寻死|寻短见|想不开|自焚|自残|割腕|上吊|服毒",
        r"跳(楼|河|江|湖|桥|海|下去)",
        r"喝(农药|敌敌畏|百草枯|老鼠药)|喝药(自杀|自尽|死)|(吞|吃)了?(一瓶|一把|一大把|很多|好多)安眠药|安眠药(自杀|自尽)|吃老鼠药",
        r"(站在|爬上|爬到|上了)(楼顶|天台|塔吊|吊塔|桥上|高压塔)|坐在(窗台|楼顶|天台|栏杆|桥栏)",
        r"往下跳|(我就|就要|马上|我要|我想|立马)跳(?!槽|舞|绳|远|高|水|过|出来|广场)",
        r"(买好|准备好|喝了|吃了|吞了)了?(农药|安眠药|老鼠药|敌敌畏|百草枯)",
        r"(我就|就|我要|我想|想|要)去死",
        r"不想活|活着没意思|活够了|不活了|一死了之|死了算了|去死了算|以死相逼|死给(你们|他们|政府)看|结束(自己的)?生命|了结自己",
        r"(浇|泼|淋|倒|带|拎|提|点)(上|了)?(一)?(桶|瓶|壶)?汽油",
        r"点火烧(自己|死)|烧死(自己|我自己)",
    ),
    # An accident happening now; a past accident told in a dispute about compensation or the
    # police's liability finding is not (see _TRAFFIC_AFTERMATH).
    TRAFFIC: (
        r"(出|发生|遇到|碰到|碰上)(了)?(一起|一场)?(车祸|交通事故|交通意外)|车祸现场|事故现场",
        r"撞车了|(两|几)(辆)?车(相)?撞|追尾了|(车)(把)?(人|我|他|她|老人|小孩|孩子|行人)撞(了|倒|伤|飞|到)",
        rf"被(一辆|辆)?(车|{_VEHICLES})(给)?撞(了|倒|伤|飞|到)",
        r"撞(倒|伤|飞|死)了?(人|行人|老人|小孩|孩子|一个人)|撞人了|轧(到|伤|了)(人|我|他|她)",
    ),
    VIOLENCE: (
        r"(拿|持|带|掏|提|操)(着|了|出|起)?(菜|砍|水果|尖)?刀",
        r"动刀|砍人|砍死|砍伤|捅人|捅死|捅伤|捅了|杀人|(要|想)?杀(了)?(他|她|你|我|他们|人)|弄死(他|她|你|我)|打死(他|她|你|我|人)",
        r"同归于尽|报复社会|炸药|炸了(他|它|政府|你们)|爆炸|行凶|抢劫|绑架|劫持|出人命",
        r"(正在|在)(打人|砸|打我|打架|斗殴)|[在正][^，,。！!？?]{0,6}打(人|我)|打(起来|人)了|(在|又|一直|天天)打我|打我了|"
        r"头破血流|被(人)?打晕|家暴|拿(棍子|铁棍|砖头)(打|砸)",
        r"被(人)?(关|锁)起来|被(人)?绑(了|起来)|非法拘禁",
        r"救命(?!钱|稻草|恩人|药|的钱)",
    ),
    FIRE: (
        r"着火|起火|失火|火灾|烧起来了|冒(黑)?烟了",
        r"(煤气|燃气|天然气)(泄漏|漏了|漏气)|闻到(煤气|燃气)味",
    ),
    MEDICAL: (
        r"昏迷|晕倒|昏倒|晕过去|不省人事|休克|抽搐|口吐白沫",
        r"没(有)?(了)?呼吸|没(有)?心跳|喘不(上|过)气|心脏病(发|犯)|中风了|大出血|流了很多血|血流不止",
        r"快(要)?不行了|人不行了|快死了|要死了|救护车",
        r"(摔|掉|坠|跌)下来了|倒在地上|躺在地上(不动|起不来)|一直流血|流了?(好多|很多)血",
    ),
}
# Words that put a fire, an accident or an illness out of the present: "万一着火", "如果有人晕倒",
# "去年出了车祸", "上个月还差点
#着火", "生孩子的时候大出血" (a medical dispute told afterwards). Threats are never hypothetical:
# "要是再不给钱我就跳楼" is an emergency.
_HYPOTHETICAL = re.compile(
    r"(万一|如果|要是|假如|一旦|防止|以防|预防|避免|怕|担心|消防|隐患|演练|差点|差一点|险些|"
    r"的时候|当时|那时|那次|去年|前年|上个月|上次|以前|之前|曾经|年前)[^，,。！!？?；;]{0,8}$"
)
_HYPOTHETICAL_KINDS = frozenset({FIRE, TRAFFIC, MEDICAL})
# A dangerous spot described, not an accident now: "这个路口经常出车祸", "容易发生交通事故".
_HABITUAL = re.compile(
    r"(经常|常常|总是|老是|多次|好几次|几次|频繁|容易|多发|高发|随时|迟早|可能会|会不会|就会|都会)[^，,。！!？?；;]{0,6}$"
)
# A traffic accident told afterwards, in a dispute (compensation, insurance, the liability
# finding, a lawsuit): a petition or another procedure, not an emergency, unless the citizen
# says it is happening now ("刚才", "现在").
_TRAFFIC_AFTERMATH = re.compile(
    r"赔偿|理赔|赔钱|不赔|没赔|赔付|保险|事故认定|责任认定|认定书|工伤|鉴定|判决|法院|起诉|官司|"
    r"调解|医药费|医疗费|误工费|伤残|后遗症|出院|康复"
)
_PRESENT = re.compile(r"刚才|刚刚|刚(被|出|发生|撞|在)|(?<!到)现在(?!还|都|也)|正在|马上|赶快|赶紧|快(来|叫|打)")
# Words that show someone is hurt in a traffic accident: 120 comes first.
_INJURY = re.compile(
    r"受伤|伤了|伤者|撞伤|撞倒|撞飞|撞死|被(.{0,6})?撞|(人|我|他|她|老人|小孩|孩子|行人)(被)?撞|轧|流血|出血|血|昏迷|"
    r"不动|起不来|骨折|晕|不省人事|重伤|死|人命|卡在|困在|被困|救护车|120"
)
_NO_INJURY = re.compile(r"(没|没有|无|未)(人)?(受伤|伤到|伤着|流血)|人(都)?没事|人没(受伤|伤)")
# Phrases that contain a pattern but are no danger.
_HARMLESS = re.compile(r"跳楼价|跳楼甩卖|跳楼大甩卖|得要死|救命钱|救命稻草|杀人不见血|笑死|气死|累死|热死|冷死|饿死了|困死|烦死|急死|吓死|忙死|火锅|上火|发火|火车|火气|炒鱿鱼")

NUMBERS = {SUICIDE: "110", VIOLENCE: "110", FIRE: "119", TRAFFIC: "122", TRAFFIC_INJURY: "120", MEDICAL: "120"}


@dataclass(frozen=True)
class Emergency:
    """A danger found in a message: its kind and the words that showed it."""

    kind: str
    words: str

    @property
    def first_number(self) -> str:
        """The number to call first (110 police, 119 fire, 122 traffic accidents, 120 ambulance)."""
        return NUMBERS[self.kind]


_COMPILED = {kind: tuple(re.compile(p) for p in patterns) for kind, patterns in _PATTERNS.items()}


def detect_emergency(text: str | None) -> Emergency | None:
    """The emergency described in ``text``, or None.

    "我现在就在楼顶，不给钱我就跳下去" -> suicide; "楼下着火了" -> fire; "我爸晕倒了" -> medical;
    "他拿着刀在门口" -> violence; "路口两辆车撞了" -> traffic; "出车祸了有人受伤" ->
    traffic_injury; "万一着火后果不堪设想" -> None; "这是我的救命钱" -> None;
    "去年出车祸，保险公司一直不赔" -> None.
    """
    normalized = normalize_text(text).replace(" ", "")
    if not normalized:
        return None
    cleaned = _HARMLESS.sub("", normalized)
    for kind, patterns in _COMPILED.items():
        for pattern in patterns:
            for match in pattern.finditer(cleaned):
                before = cleaned[: match.start()]
                if kind in _HYPOTHETICAL_KINDS and _HYPOTHETICAL.search(before):
                    continue
                if kind == TRAFFIC:
                    if _HABITUAL.search(before):
                        continue
                    if _TRAFFIC_AFTERMATH.search(cleaned) and not _PRESENT.search(cleaned):
                        continue
                    if _INJURY.search(_NO_INJURY.sub("", cleaned)):
                        return Emergency(TRAFFIC_INJURY, match.group(0))
                return Emergency(kind, match.group(0))
    return None
