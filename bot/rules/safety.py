"""Emergencies spotted in any message, whatever the classifier makes of it.

A citizen in danger must be told the emergency numbers first, before any question of a form:
someone threatening to take their own life, violence going on, a fire or a gas leak, a traffic
accident (122, and 120 first when someone is hurt), a medical emergency, someone in the water,
a child in danger. The classifier has an ``emergency`` intent; this module is the deterministic
safety net beside it: the NLU pipeline sets the intent ``emergency`` whenever it fires
(``connectors/safety_net.py``), and the actions check it before their own reply.

Only present or threatened danger counts: a hypothetical, a hazard complained about, an
accident told afterwards in a dispute about money, a price ("跳楼价") or a figure of speech is
not an emergency. A threat to one's own life is never explained away as hypothetical ("要是再
不给钱我就跳楼"). When in doubt the net fires: giving the numbers once too often costs a
sentence, missing them can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.rules.text import normalize_text

SUICIDE = "suicide"  # a threat to one's own life, or self-harm: 110 (120 if harmed), 12356
CHILD = "child"  # a lost child, a child locked in a car, beaten, on a window ledge: 110
DROWNING = "drowning"  # someone in the water: 110 and 120
TRAFFIC = "traffic"  # a traffic accident: 122 (交通事故报警)
TRAFFIC_INJURY = "traffic_injury"  # a traffic accident with someone hurt: 120, then 122
VIOLENCE = "violence"  # violence, threats, robbery, someone held: 110
GAS = "gas"  # a gas leak: 119, leave, switch nothing on
FIRE = "fire"  # fire, smoke, an explosion: 119
MEDICAL = "medical"  # collapse, unconscious, bleeding, poisoning: 120

# The numbers the first sentence of the reply names, in this order (DOMAIN.md §14;
# 12356 is the psychological-assistance hotline).
NUMBERS: dict[str, tuple[str, ...]] = {
    SUICIDE: ("110", "120", "12356"),
    CHILD: ("110",),
    DROWNING: ("110", "120"),
    TRAFFIC: ("122",),
    TRAFFIC_INJURY: ("120", "122"),
    VIOLENCE: ("110",),
    GAS: ("119",),
    FIRE: ("119",),
    MEDICAL: ("120",),
}

_VEHICLES = "汽车|轿车|小车|货车|卡车|大货车|电动车|电瓶车|摩托车|渣土车|公交车|出租车|面包车|三轮车|车"
_CHILDREN = "孩子|小孩子|小孩|儿子|女儿|闺女|宝宝|娃儿|娃娃|娃|孙子|孙女|外孙|小朋友|儿童|婴儿"
_ELDERS = "老人家|老人|老太太|老大爷|爷爷|奶奶|外公|外婆|姥姥|姥爷|老父亲|老母亲|我爸|我妈|老爸|老妈"
_STOP = "，,。！!？?；;"  # a clause ends here
_GAS_WORDS = "煤气|燃气|天然气|液化气|沼气|煤起|煤汽|gas"

# Checked in this order: the first kind that matches decides which numbers are named first
# (a child before anyone else, a traffic accident before violence: "出车祸了，出人命了"
# needs 120 and 122, not 110 alone; someone in the water before the cry "救命").
_PATTERNS: dict[str, tuple[str, ...]] = {
    CHILD: (
        rf"({_CHILDREN})[^{_STOP}的]{{0,10}}(走丢|走失|丢了|不见了|找不(到|着)(?!工作|活|学校|人管|地方|单位|对象)|没回家|被(人)?(抱走|拐|带走|偷走)|拐走|抱走)",
        rf"({_CHILDREN})[^{_STOP}]{{0,8}}(锁在|关在|困在)[^{_STOP}]{{0,3}}车|({_CHILDREN})[^{_STOP}]{{0,8}}车里[^{_STOP}]{{0,10}}(锁|出不来|钥匙)",
        rf"({_ELDERS})[^{_STOP}的]{{0,6}}(走丢|走失|不见了)",
        rf"({_CHILDREN})[^{_STOP}]{{0,8}}(站|坐|爬|挂|趴|吊)[^{_STOP}]{{0,4}}(窗台|阳台|窗户|窗外|栏杆|楼顶|天台|房顶)|({_CHILDREN})[^{_STOP}]{{0,6}}(窗台|阳台|窗户|窗外|栏杆|楼顶|天台|房顶)[^{_STOP}]{{0,3}}(站|坐|爬|挂|趴|吊|翻)",
        rf"({_CHILDREN})[^{_STOP}]{{0,6}}被(人)?[^{_STOP}]{{0,6}}(带走|抱走|拉走|抢走|拐)",
        rf"(打|揍|虐待|抽打|毒打)(了|着)?(我|我的|他|她|他的|她的|一个|个|自己的|自家)?({_CHILDREN})(?!的)|({_CHILDREN})[^{_STOP}]{{0,10}}被[^{_STOP}]{{0,8}}(打|抽|揍|虐待)",
    ),
    SUICIDE: (
        r"自杀|自尽|轻生|寻死|寻短见|想不开|自焚|自残|割腕|割[^，,。]{0,2}手腕|上吊|服毒|卧轨|烧炭|一了百了|(写好|写了|留好|留了|留下|发了|准备好)(了)?遗(书|言)|遗书(放|在|写好)",
        r"跳(楼|河|江|湖|桥|海|下去)",
        r"喝(农药|敌敌畏|百草枯|老鼠药)|喝药(自杀|自尽|死)|安眠药(自杀|自尽)|吃老鼠药",
        r"(吞|吃|喝|服)了?[^，,。]{0,4}(一整?瓶|一大?把|很多|好多)[^，,。]{0,3}药|(吞|吃|喝|服)(了)?[^，,。]{0,4}(安眠药|农药|老鼠药|敌敌畏|百草枯|毒药)",
        r"(站在|爬上|爬到|上了)(楼顶|天台|塔吊|吊塔|桥上|高压塔)|坐在(窗台|楼顶|天台|栏杆|桥栏)",
        r"我(已经|现在)?(就)?(在|到了)(楼顶|天台|桥上)|我(已经|现在)?(就)?(在|到了)(河边|江边|湖边|海边)了",
        r"往下跳|(我就|就要|马上|我要|我想|立马)跳(?!槽|舞|绳|远|高|水|过|出来|广场)",
        r"(买好|准备好|喝了|吃了|吞了)了?(农药|安眠药|老鼠药|敌敌畏|百草枯)",
        r"(我就|就|我要|我想|想|要)去死|我?想死|死在(你们|政府|信访|这里|门口)",
        r"不想(再)?活|活着没意思|活够了|不活了|活不下去|一死了之|死了算了|去死了算|以死相逼|死给(你们|他们|政府)看|"
        r"结束(自己的)?生命|结束自己|结束这一切|了结自己",
        r"(浇|泼|淋|倒|带|拎|提|点)(上|了)?(一)?(桶|瓶|壶)?汽油",
        r"点火烧(自己|死)|烧死(自己|我自己)",
        r"(?i:want to die|kill myself)",
    ),
    DROWNING: (
        r"溺水|落水|被(水|浪|大浪|洪水|急流)(给)?(冲|卷)走|沉下去|淹(死|着|到)",
        r"(下水|水库|河|江|湖|海|游泳)[^，,。]{0,10}没(有)?上来|掉(进|到|在)?[^，,。]{0,6}(河|江|湖|海|水库|水塘|池塘|鱼塘|水沟|水里|水池|粪池)",
        r"(水库|河|江|湖|海|水塘|池塘|鱼塘)里[^，,。]{0,4}(不见了|沉|没上来)|被[^，,。]{0,3}冲走|冲走了|在水里[^，,。]{0,4}(扑腾|挣扎|喊救命|喊)|扑腾|游泳[^，,。]{0,8}(没上来|不见了|沉)|没(有)?浮上来",
    ),
    # An accident happening now; a past accident told in a dispute about compensation or the
    # police's liability finding is not (see _AFTERMATH).
    TRAFFIC: (
        r"(出|发生|遇到|碰到|碰上)(了)?(一起|一场)?(车祸|交通事故|交通意外)|车祸现场|事故现场|车祸(了|啦)|车祸有人",
        r"(快|赶快|赶紧|帮我|马上)打122|侧翻|撞了人|撞到人了|撞车了|(两|几)辆?车[^，,。]{0,8}撞|追尾|剐蹭|刮蹭|翻车|车(子)?翻(了|到|进)",
        r"(车)(把)?(人|我|他|她|老人|小孩|孩子|行人)撞(了|倒|伤|飞|到)",
        rf"被(一辆|辆)?[^，,。]{{0,2}}({_VEHICLES})(给)?(撞|蹭|刮|碰|轧|碾|压)(了|倒|伤|飞|到)",
        rf"({_VEHICLES})(把|将)[^，,。]{{0,8}}(撞|轧|碾|压)(了|倒|伤|飞|死)",
        r"撞(倒|伤|飞|死)了?(人|行人|老人|小孩|孩子|一个人)|撞人了|轧(到|伤|了)(人|我|他|她)",
        r"车[^，,。]{0,2}撞(到|在|上)|撞(了|到)[^，,。]{0,8}(的人|行人|老人|小孩|孩子|一个人)|(和|跟|与)[^，,。]{0,8}车撞(上|了)|撞到了?[^，,。]{0,4}车|车被[^，,。]{0,6}撞",
    ),
    VIOLENCE: (
        r"(拿|持|带|掏|提|操)(着|了|出|起)?(菜|砍|水果|尖)?刀|(拿|持|掏|举)(着|了|出)?(枪|手枪|猎枪)",
        r"动刀|砍人|砍死|砍伤|捅人|捅死|捅伤|捅了|杀人|(要|想)?杀(了)?(他|她|你|我|他们|人)|弄死(他|她|你|我)|打死(他|她|你|我|人)",
        r"(要|说要|想)(收拾|弄死|砍|打死|杀)(我|你|他|她)|(要|说要|想)炸(了|掉|死|毁)?",
        r"同归于尽|报复社会|炸药|炸了(他|它|政府|你们)|行凶|抢劫|绑架|劫持|出人命",
        r"(正在|在)(打人|砸|打我|打架|斗殴)|[在正][^，,。！!？?]{0,6}(打(人|我|俺)|打架)|打(起来|人)了|(在|又|一直|天天)打(我|俺)|打(我|俺)了|"
        r"头破血流|被(人)?打晕|家暴|拿(棍子|铁棍|砖头)(打|砸)|(拿|抄|举)着?(棍子|铁棍|砖头|酒瓶|铁锹|锤子)",
        r"围殴|群殴|殴打|(一伙|一帮|一群|几个|好几个)人[^，,。]{0,4}(围|打)|(围着|追着)(我|他|她|我们)打|(几个|一帮|一群|好几个)人[^，,。]{0,6}打(我|他|她|人)|在追(我|他|她)|还在打(?![桩针卡工听电官游扫印球牌])",
        r"救救我|(快|赶快|赶紧|帮我|马上)(报警|打110)|报警啊",
        r"砸(我|他|她|门|我家|店)|抢(我|了我|走我)(的)?(包|手机|钱|东西|项链|孩子)|被抢(了|走)|撬(门|锁|我家)|(闯|冲)进(我家|家里|来|屋)|掐(着|住)?[^，,。]{0,3}脖子",
        r"动手动脚|非礼|猥亵|强奸|性侵|跟踪我|尾随|(有人|陌生人|男的|有个人|一个人)[^，,。]{0,4}跟着我|被[^，,。]{0,3}打得|被(人)?砸(了|烂|坏)",
        r"被(人)?(非法)?(关|锁)(起来|在)|(把|将)我[^，,。]{0,2}(关|锁)(在|起来)|不让我(走|出去|下车|离开)|被(人)?绑(了|起来)|非法拘禁",
        r"救命(?!钱|稻草|恩人|药|的钱)",
    ),
    GAS: (
        rf"(?i:{_GAS_WORDS})[^{_STOP}]{{0,8}}(泄漏|泄露|漏了|漏气|在漏|漏|味)",
        r"闻到[^，,。]{0,4}(煤气|燃气|天然气|液化气)|臭鸡蛋味",
        rf"(?i:{_GAS_WORDS})[^{_STOP}]{{0,6}}(爆|炸)",
    ),
    FIRE: (
        r"着火|起火|失火|火灾|着大火|着活|烧起来|烧着了|点着了|着了火|自燃|冒(出)?(好多|很多|大量)?(黑|浓)?烟|浓烟|全是烟|火光|火苗|火花|冒火|救火|放火|(?i:fire)(?!d)|(快|赶快|赶紧|帮我|马上)打119",
        r"爆炸|炸了",
    ),
    MEDICAL: (
        r"昏迷|晕倒|昏倒|(晕|昏)了?过去|吐血|咯血|(满身|全身|一身|满脸|一脸|头上都)是血|心梗|心肌梗|脑梗|脑溢血|脑出血|不省人事|休克|抽搐|抽筋了|口吐白沫|倒地|倒在|倒起了",
        r"没(有)?(了)?呼吸|没(有)?心跳|没气了|喘不(上|过)(来)?气|心脏病(发|犯)|中风了|大出血|流了很多血|血流不止|流血不止|血止不住|呼吸困难|吃错(了)?药|止不住(地)?(流)?血",
        r"快(要)?不行了|人不行了|快死了|要死了|救护车",
        r"(摔|掉|坠|跌)下来了|从[^，,。]{0,6}(摔|掉|坠|跌)下去了|倒下(了|去)|噎(着|住)|烫伤|烧伤|骨折|(腿|胳膊|手|脚)断了|摔了一跤|摔倒|滑倒|躺在地上|起不来|一动不动|一直流血|流了?(好多|很多)血",
        r"(叫|喊)[^，,。]{0,4}(不醒|不应|没反应|没有反应)|突然[^，,。]{0,6}(不说话|说不出话|倒|晕)",
        r"胸口[^，,。]{0,2}(痛|疼)|心口[^，,。]{0,2}(痛|疼)|嘴歪|半边身子|说话不清|脸(都)?(紫|青)了",
        r"(快|赶快|赶紧|帮我|马上)(打|叫)?120|中毒|中暑|触电|噎住|鱼刺卡|卡在喉咙|误(喝|吃|服)|卷进去|被[^，,。]{0,3}(狗|蛇|猫|狼|野猪)咬|毒蛇|过敏[^，,。]{0,6}(喘|肿)",
    ),
}

# Kinds an "if", a hazard or a habit can put out of the present: "万一着火", "如果有人晕倒",
# "这个路口经常出车祸", "河边没有护栏，小孩容易落水", "万一孩子走丢了". Threats and violence
# are never hypothetical ("要是再不给钱我就跳楼" is an emergency).
_ACCIDENT_KINDS = frozenset({FIRE, GAS, TRAFFIC, MEDICAL, DROWNING, CHILD})
_CONDITIONAL = re.compile(
    r"(万一|如果|要是|假如|一旦|防|以防|预防|避免|怕|担心|消防|隐患|演练|差点|差一点|险些)[^，,。！!？?；;]{0,8}$"
)
_HABITUAL = re.compile(
    r"(经常|常常|总是|老是|天天|每天|整天|多次|好几次|几次|频繁|容易|多发|高发|随时|迟早|早晚|可能会|会不会|就会|都会)[^，,。！!？?；;]{0,6}$"
)
# A time in the past shortly before (or inside) the words: "去年着火的厂房", "上个月小区着火",
# "孩子上学期在学校被同学打了". Every kind but a threat to one's own life.
_PAST = re.compile(
    r"(的时候|当时|那时|那次|那年|当年|当初|去年|前年|上个月|上次|上周|上星期|上学期|以前|之前|曾经|小时候|"
    r"前几天|前些天|前几年|前些年|(\d+|[一二两三四五六七八九十几半]+)(个)?(多)?(年|月|天|周|星期)(以)?前|\d{4}年)"
)
# Words right after that put the danger in the past or make it a topic: "摔倒过", "车祸后遗症",
# "火灾保险", "家暴的证据", "昏迷了三个月", "抢劫的案子", "儿童走失预警平台".
_AFTER_PAST = re.compile(
    r"^(过|的时候|那天|那次|以后|之后|后(?!面|边|头)|"
    r"了?(一|两|三|四|五|六|七|八|九|十|几|好几|半|\d+)(个)?(多)?(天|周|星期|个月|月|年))"
)
_TOPIC_AFTER = re.compile(
    r"^的?(险|宣传|教育|预警|平台|救援|知识|规定|标准|流程|处罚|保险|调查|报告|认定|鉴定|演练|培训|隐患|救助|补贴|案子|案件|证据)|"
    r"^[^，,。！!？?；;]{0,6}的(问题|规定|标准|流程|事情|事)"
)
# An accident or an illness told afterwards, in a dispute (compensation, insurance, a finding,
# a lawsuit, a bill): a petition or another procedure, not an emergency, unless the citizen
# says it is happening now ("刚才", "现在").
_AFTERMATH = re.compile(
    r"赔偿|理赔|赔钱|不赔|没赔|拒赔|赔付|保险|事故认定|责任认定|认定书|工伤|鉴定|判决|法院|起诉|官司|"
    r"调解|医药费|医疗费|护理费|误工费|丧葬|抚恤|伤残|后遗症|出院|康复|调查|追究|表扬|表彰|锦旗|"
    r"监控|追究|处分|没抓|不给看|收费|费用|太贵|\d+块|[一二三四五六七八九十百千万]+块|身亡|去世|遇难"
)
# A death told afterwards: "五年前跳河走了，抚恤金一直没发" (the only past that silences a
# threat to one's own life).
_DEATH_AFTERMATH = re.compile(r"去世|身亡|遇难|丧葬|抚恤|遗体|追悼|死亡赔偿")
_PRESENT = re.compile(r"刚才|刚刚|刚(被|出|发生|撞|在|回)|(?<!到)现在(?!还|都|也|要求)|正在|马上|赶快|赶紧|快(来|叫|打|救)")
# A child's beating told as a complaint afterwards: "孩子在幼儿园被老师打了，我们要个说法".
_COMPLAINT = re.compile(r"说法|处理|投诉|立案|派出所|不管|监控|赔偿|追究|处分|没抓")
_FOUND_AGAIN = re.compile(r"找(回来|到)了|已经找到|回来了")
# Words that show someone is hurt in a traffic accident: 120 comes first.
_INJURY = re.compile(
    r"受伤|伤了|伤者|撞伤|撞倒|撞飞|撞死|(?<!车)被(.{0,6})?(撞|轧)|(人|我|他|她|老人|小孩|孩子|行人)(被)?撞|轧|流血|出血|血|昏迷|"
    r"不动|动不了|起不来|倒地|躺|断了|骨折|晕|不省人事|重伤|死|人命|卡在|困在|被困|救护车|120"
)
_NO_INJURY = re.compile(r"(没|没有|无|未)(人)?(受伤|伤到|伤着|流血)|人(都)?没事|人没(受伤|伤)")
# Phrases that contain a pattern but are no danger.
_HARMLESS = re.compile(
    r"跳楼价|跳楼甩卖|跳楼大甩卖|得要死|救命钱|救命稻草|杀人不见血|笑死|气死|累死|热死|冷死|饿死|困死|烦死|急死|吓死|忙死|"
    r"(救护车|警察|民警|消防车|消防员)(已经)?(来了|到了|赶到了)|"  # help has come: no call to make now
    r"想死(你|您)|火锅|上火|发火|火车|火气|火冒三丈|火烧眉毛|炒鱿鱼|跳(河|水|江|海)救人|扶不扶|杀价|砍价|气炸|炸锅|炸了锅|炸鸡|炸酱|油炸|落水狗"
)


@dataclass(frozen=True)
class Emergency:
    """A danger found in a message: its kind and the words that showed it."""

    kind: str
    words: str

    @property
    def numbers(self) -> tuple[str, ...]:
        """The numbers to call, in the order the reply names them first."""
        return NUMBERS[self.kind]

    @property
    def first_number(self) -> str:
        """The number to call first (110 police, 119 fire, 120 ambulance, 122 traffic accidents)."""
        return NUMBERS[self.kind][0]


_COMPILED = {kind: tuple(re.compile(p) for p in patterns) for kind, patterns in _PATTERNS.items()}


def _clause_start(text: str, index: int) -> int:
    starts = [text.rfind(mark, 0, index) for mark in _STOP]
    return max(starts) + 1


def _dismissed(kind: str, cleaned: str, start: int, end: int) -> bool:
    """Whether the words at ``cleaned[start:end]`` are no danger now."""
    before = cleaned[:start]
    after = cleaned[end:]
    if kind == SUICIDE:
        return bool(_DEATH_AFTERMATH.search(cleaned) and _PAST.search(cleaned))
    near = cleaned[max(_clause_start(cleaned, start), start - 8) : end]
    if _PAST.search(near) or _AFTER_PAST.search(after) or _TOPIC_AFTER.search(after):
        return True
    if kind in _ACCIDENT_KINDS and _CONDITIONAL.search(before):
        return True
    if kind in _ACCIDENT_KINDS and _HABITUAL.search(before) and not _PRESENT.search(cleaned):
        return True
    if kind == CHILD and _FOUND_AGAIN.search(after):
        return True
    if kind == CHILD and "被" in cleaned[start:end] and _COMPLAINT.search(cleaned) and not _PRESENT.search(cleaned):
        return True  # "孩子在幼儿园被老师打了，我们要个说法"
    if kind in _ACCIDENT_KINDS - {CHILD} and _AFTERMATH.search(cleaned) and not _PRESENT.search(cleaned):
        return True
    return False


def _scan(text: str | None) -> tuple[Emergency | None, bool]:
    """The emergency in ``text``, and whether emergency words were found but dismissed."""
    normalized = normalize_text(text).replace(" ", "")
    if not normalized:
        return None, False
    cleaned = _HARMLESS.sub("", normalized)
    dismissed = cleaned != normalized
    for kind, patterns in _COMPILED.items():
        for pattern in patterns:
            for match in pattern.finditer(cleaned):
                if _dismissed(kind, cleaned, match.start(), match.end()):
                    dismissed = True
                    continue
                if kind == TRAFFIC and _INJURY.search(_NO_INJURY.sub("", cleaned)):
                    return Emergency(TRAFFIC_INJURY, match.group(0)), False
                return Emergency(kind, match.group(0)), False
    return None, dismissed


def detect_emergency(text: str | None) -> Emergency | None:
    """The emergency described in ``text``, or None.

    "厨房冒烟了" -> fire; "家里有股燃气味" -> gas; "我奶奶叫不醒" -> medical;
    "有个人掉水库里了" -> drowning; "女儿在超市找不到了" -> child; "两辆车追尾了" ->
    traffic; "电动车把老人撞倒了" -> traffic_injury; "他拿着刀堵在门口" -> violence;
    "我不想活了" -> suicide; "以后万一起火怎么办" -> None; "车祸的保险一直不赔" -> None.
    """
    return _scan(text)[0]


def dismissed_emergency(text: str | None) -> bool:
    """Whether ``text`` has emergency words that are explicitly no danger now: a hypothetical,
    a hazard, a past event in a dispute, a price or a figure of speech ("楼道堆满杂物万一着火",
    "去年着火的厂房赔偿还没给", "跳楼价"). False when it describes an emergency."""
    return _scan(text)[1]
