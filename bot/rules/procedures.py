"""Matters that belong to another lawful procedure (法定途径), and behaviour 第26条 prohibits.

诉访分离 (信访工作条例 第22条、第31条): litigation, enforcement, police and procuratorate
procedures, arbitration and administrative review leave the petition procedure; accusations
against Party members and officials go to 纪检监察 (第22条, confidentiality 第30条); simple
service requests are faster through the 12345 hotline. These functions spot such matters in the
citizen's own words with a few conservative phrase patterns. The classifier has one intent per
procedure; the patterns refine its answer (a judgment or its enforcement?) and catch a matter it
took for an ordinary petition. They must stay precise: a wage claim, a noise complaint or a
removed bus stop is an ordinary petition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.rules.jurisdiction import jurisdiction_file
from bot.rules.text import normalize_text

LITIGATION = "litigation"
ARBITRATION = "arbitration"
ADMIN_REVIEW = "admin_review"
DISCIPLINE = "discipline"
SERVICE = "service"
PROCEDURES = (LITIGATION, ARBITRATION, ADMIN_REVIEW, DISCIPLINE, SERVICE)

# Topics: the precise situation inside a procedure, each with its own route and time limit.
JUDGMENT = "judgment"  # a court decision the citizen does not accept
ENFORCEMENT = "enforcement"  # a judgment (or award) the other side does not carry out
POLICE = "police"  # a report to the police / procuratorate that goes nowhere
LAWSUIT = "lawsuit"  # going to court, a case in court
DEFAULT_TOPIC = {LITIGATION: LAWSUIT, ARBITRATION: ARBITRATION, ADMIN_REVIEW: ADMIN_REVIEW,
                 DISCIPLINE: DISCIPLINE, SERVICE: SERVICE}

# The classifier's intent for each procedure.
INTENT_PROCEDURES = {
    "procedure_litigation": LITIGATION,
    "procedure_arbitration": ARBITRATION,
    "procedure_admin_review": ADMIN_REVIEW,
    "procedure_discipline": DISCIPLINE,
    "procedure_service": SERVICE,
}

# The bodies named to the citizen for each kind of matter (the ``referral_bodies`` of the
# jurisdiction file); these generic names stand in for a body the file does not name.
REFERRAL_DEFAULTS = {
    "court": "有管辖权的人民法院",
    "procuratorate": "同级人民检察院",
    "police": "当地公安机关",
    "labour_arbitration": "当地劳动人事争议仲裁委员会",
    "admin_review": "作出行政行为的部门所属的本级人民政府",
}


def referral_bodies(path: str | Path | None = None) -> dict[str, str]:
    """Court, procuratorate, police, labour arbitration committee and 行政复议机关 of the area.

    Read from ``referral_bodies`` in the jurisdiction file (the file ``load_jurisdiction``
    reads); a body it does not name gets the generic name of REFERRAL_DEFAULTS.
    """
    return dict(_referral_bodies(str(Path(path or jurisdiction_file()).resolve())))


@lru_cache(maxsize=8)
def _referral_bodies(path: str) -> tuple[tuple[str, str], ...]:
    with open(path, encoding="utf-8") as handle:
        configured = (yaml.safe_load(handle) or {}).get("referral_bodies") or {}
    return tuple((key, str(configured.get(key) or default)) for key, default in REFERRAL_DEFAULTS.items())


_S = r"[^。！？!?；;]"  # any character inside one sentence
_OFFICIALS = (r"干部|书记|支书|村主任|村长|主任|局长|科长|处长|镇长|乡长|区长|县长|市长|领导|公务员|"
              r"公职人员|党员|官员|民警|警察|城管|法官|检察官|所长|站长|队长|院长|校长|村委|社区|街道|监察")

# (topic, patterns), checked in this order: the first match decides.
_PATTERNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (DISCIPLINE, DISCIPLINE, (
        r"贪污|受贿|索贿|行贿|腐败|贪腐|挪用公款|侵吞|私分|私吞|截留|公款吃喝|公款旅游|公车私用|吃回扣|拿回扣|收回扣|"
        r"以权谋私|利用职权|滥用职权|权钱交易|违纪|八项规定|吃拿卡要|雁过拔毛|优亲厚友|虚报冒领|中饱私囊|"
        r"装进(了)?自己(的)?(腰包|口袋)|小金库|买官卖官|跑官要官|贪了",
        r"挪用(了)?(公款|集体|扶贫|补偿款|征地款|专项|村里|村集体|低保)",
        rf"({_OFFICIALS}){_S}{{0,20}}(收了?|拿了?|要了?|索要|吃了?)[^。！？!?；;，,]{{0,6}}"
        r"(红包|好处|好处费|礼金|购物卡|贿赂|回扣|干股|的钱|钱财)",
        rf"({_OFFICIALS}){_S}{{0,20}}(给|租给|卖给|分给|安排给|留给)(了)?(他|她|自己)?(的)?"
        r"(亲戚|家人|亲属|老婆|儿子|女儿|小舅子|家里人)",
    )),
    # an award not carried out is still the arbitration route (enforcement is part of it)
    (ARBITRATION, ARBITRATION, (
        r"仲裁|劳动争议|人事争议",
    )),
    # the procuratorate after a judgment (申诉, a refused 再审: 检察建议/抗诉) is the judgment route
    (LITIGATION, JUDGMENT, (
        rf"(再审|抗诉|检察建议|判决|裁定|判了|判的|申诉){_S}{{0,20}}(检察院|检察官)",
        rf"(检察院|检察官){_S}{{0,20}}(再审|抗诉|检察建议|判决|裁定|判了|判的|申诉)",
    )),
    (LITIGATION, POLICE, (
        rf"(派出所|公安|警察|民警){_S}{{0,12}}(不立案|不予立案|没立案|不给立案|不受理|没有?进展|没下文|没有下文|不抓人|不抓)",
        rf"(报案|报警|立案){_S}{{0,15}}(不立案|没立案|不予立案|不受理|没有?(任何|一点)?进展|进展都没有|没下文|没有下文|不了了之)",
        r"检察院|检察官|立案监督",
    )),
    # before the courts: "行政诉讼" and "起诉政府" are the administrative route
    (ADMIN_REVIEW, ADMIN_REVIEW, (
        r"行政复议|复议|行政诉讼|民告官|告政府|起诉政府",
        rf"(不服|不认可|不接受|不同意){_S}{{0,12}}(处罚|罚款|罚单|处理决定|行政决定|拆除决定|限期拆除|责令|吊销|"
        r"认定结论|认定书|不予(受理|许可|登记|认定)|强拆决定|征收决定|拘留)",
        rf"(罚款|处罚|罚单|吊销|拘留|决定|认定|罚了){_S}{{0,12}}(不服|不认可|不接受|不同意|不合理|太重|冤枉|不公|不对)",
    )),
    (LITIGATION, ENFORCEMENT, (
        r"(申请|强制)执行|执行(局|庭|法官|款|案件|不了|不到)|老赖|失信被执行人|限制高消费|限高",
        rf"(判决|裁定|调解书|裁决|判了|判的|判给|判决书|法院判){_S}{{0,24}}"
        r"(不执行|不履行|拒不|不给|没给|不还|没还|不赔|没赔|一分(钱)?(都|也)?没|一直拖|赖着|躲着)",
        r"(不|拒不|一直不|迟迟不|还不|没有|没|不肯)(履行|执行)(判决|裁定|调解书|法院|裁决)?",
    )),
    (LITIGATION, JUDGMENT, (
        rf"(法院|法官|一审|二审|终审|再审){_S}{{0,12}}(判|裁定|驳回|不立案|不予立案|不受理|不给(我)?立案)",
        rf"判(决|得|的|了){_S}{{0,10}}(不公|不服|不对|错|冤|不合理|有问题|偏袒)",
        rf"(不服|不认可|不接受|不满意?){_S}{{0,8}}(判决|裁定|判的|判得|法院)",
        r"判错|错判|误判|上诉|再审|抗诉|冤假错案|错案|冤案",
    )),
    (LITIGATION, LAWSUIT, (
        r"官司|起诉|告到法院|(去|到|找)法院|法院告|诉讼|立案庭|开庭|律师函",
    )),
    (SERVICE, SERVICE, (
        rf"路灯{_S}{{0,8}}(坏|不亮|灭|黑|没亮|不开)",
        rf"(井盖|窨井盖|下水道盖|雨水篦子){_S}{{0,8}}(丢|没了|坏|破|缺|翘|松|掉|被偷)",
        rf"公交{_S}{{0,10}}(班次|末班|首班|间隔|加(一|几)?班|增开|开通|新开|绕路|不停站|不靠站|晚点|太挤)",
        rf"(红绿灯|信号灯){_S}{{0,8}}(坏|不亮|故障)",
        rf"(垃圾桶|垃圾){_S}{{0,8}}(没人清|没人收|满了|没清运|好几天没(人)?(收|清|拉))",
        rf"(水管|自来水管|消防栓){_S}{{0,6}}(爆|漏水|坏)",
    )),
)
_COMPILED = tuple((procedure, topic, tuple(re.compile(p) for p in patterns)) for procedure, topic, patterns in _PATTERNS)


@dataclass(frozen=True)
class ProcedureMatch:
    """Where a matter belongs: the procedure, the precise topic and the words that showed it."""

    procedure: str
    topic: str
    words: str = ""


def detect_procedure(text: str | None) -> ProcedureMatch | None:
    """The other lawful procedure a description points to, or None for an ordinary petition.

    "法院判了我不服" -> litigation/judgment; "对方不执行判决" -> litigation/enforcement;
    "公司不给工资我去仲裁了" -> arbitration; "村支书贪污" -> discipline; "路灯坏了" -> service;
    "老板拖着工资不给" -> None.
    """
    normalized = normalize_text(text).replace(" ", "")
    if not normalized:
        return None
    for procedure, topic, patterns in _COMPILED:
        for pattern in patterns:
            match = pattern.search(normalized)
            if match:
                return ProcedureMatch(procedure, topic, match.group(0))
    return None


def procedure_for(intent: str | None, text: str | None) -> ProcedureMatch | None:
    """The procedure of a message: the classifier's procedure intent, refined by the patterns.

    When the words name a precise situation (an enforcement, an arbitration) it wins over the
    classifier, which may confuse neighbouring procedures; with no such words the intent's
    procedure and its default topic are used. None when neither points to another one.
    """
    found = detect_procedure(text)
    if found is not None:
        return found
    procedure = INTENT_PROCEDURES.get(intent or "")
    return ProcedureMatch(procedure, DEFAULT_TOPIC[procedure]) if procedure else None


# --- behaviour forbidden by 第26条 ----------------------------------------------------
# The items of 第26条 (1-6), each with phrase patterns for an intention to do it.
_PROHIBITED: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (
        r"(拉|打|挂|举|扯)(起)?(横幅|标语|条幅|大字报|牌子)|举牌",
        r"堵(门|路|大门|政府|马路|路口|车|住)|围堵|围攻|冲击|冲进|闯进|包围",
        r"(拦|截)(住)?(领导|公务|政府)?(的)?车|拦车|拦路",
        r"聚集|静坐|示威|游行|集体(去|到)",
    )),
    (2, (
        r"(带|拿|揣|背|拎)(上|着)?(一)?(把|桶|瓶)?(刀|汽油|棍子|管制刀具|爆竹|鞭炮|烟花|硫酸|农药)",
    )),
    (3, (
        rf"(打|骂|砸|揍|扇|威胁|收拾)(一顿)?(那些|那帮|这些)?(工作人员|干部|领导|办事员|办公室|你们|他们的)",
        r"(关|扣|堵)(住)?(他|领导|干部|工作人员)(不让走|不放)",
    )),
    (4, (
        r"赖着不走|(睡|住|躺)在(信访局|政府|接待大厅|接待室|信访办)|不解决就不走|不给说法就不走",
        r"(把|让)(老人|瘫痪|病人|孩子)[^。]{0,8}(扔|丢|放|留)在(信访局|政府|接待)",
    )),
    (5, (
        r"(雇|花钱请|出钱请|找)[^。]{0,4}人(去|来|帮我)?(上访|闹|信访|静坐|堵)|代访|以信访为名|"
        r"(组织|发动|串联|喊上|叫上|拉上|召集)[^。]{0,8}(人|村民|工友|业主|大家|老乡)",
    )),
    (6, (
        r"闹事|大闹|去闹|闹一闹|闹到|闹大|闹一场|不闹不解决",
    )),
)
_PROHIBITED_COMPILED = tuple((item, tuple(re.compile(p) for p in ps)) for item, ps in _PROHIBITED)


def detect_prohibited(text: str | None) -> list[int]:
    """The items of 第26条 that an intention in ``text`` would break (sorted, may be empty).

    "明天我们几十个人去区政府门口拉横幅" -> [1]; "不给钱就带汽油去" -> [2]; "我要去闹" -> [6].
    """
    normalized = normalize_text(text).replace(" ", "")
    return [item for item, patterns in _PROHIBITED_COMPILED if any(p.search(normalized) for p in patterns)]


# A simple service request is short; a long story that mentions a broken street light on the
# way is a petition about something else.
SERVICE_MAX_CHARS = 60


def opening_procedure(text: str | None) -> ProcedureMatch | None:
    """The other procedure of a first description the classifier took for a petition.

    Like :func:`detect_procedure`, except that a service cue inside a long story does not count.
    """
    found = detect_procedure(text)
    if found is not None and found.procedure == SERVICE and len(normalize_text(text)) > SERVICE_MAX_CHARS:
        return None
    return found
