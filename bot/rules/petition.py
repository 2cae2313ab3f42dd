"""Form fields of a petition: labels, answer checks and reading colloquial answers.

条例 第19条: a petition gives the name, address, request, facts and reasons; 第35-36条:
复查 and 复核; after 复核 the same facts and reasons are not accepted again.
"""

from __future__ import annotations

import re

from bot.rules.checks import Check, failed, passed, refused
from bot.rules.messages import message
from bot.rules.fields import BY_SLOT, REVIEW_STAGES, label
from bot.rules.text import MAX_TEXT_LEN, is_cjk, normalize_text, tidy_text

NAME_MIN, NAME_MAX = BY_SLOT["petitioner_name"].min_len, BY_SLOT["petitioner_name"].max_len
ADDRESS_MIN, ADDRESS_MAX = BY_SLOT["address"].min_len, BY_SLOT["address"].max_len
EXAMPLE_NAME = "张建国"
EXAMPLE_ADDRESS = "杭州市西湖区文三路138号3幢2单元501室"
FREE_TEXT_EXAMPLES: dict[str, str] = {
    "facts": (
        "2026年8月起，某某建筑公司拖欠我和另外12名工人三个月工资，共约4万元，"
        "多次找项目负责人都没有结果。"
    ),
    "request": "要求某某建筑公司支付拖欠的三个月工资。",
    "respondent": "某某物业公司",
    "prior_body": "2026年8月向文新街道反映过",
}


# --- names -----------------------------------------------------------------------------

_NAME_PREFIX_RE = re.compile(
    r"^(?:(?:您好|你好|嗯+|哦|噢|那好|好的|好|行)[,!]?\s*)?(?:我的(?:真实)?(?:姓名|名字)(?:是|叫)?|(?:姓名|名字)(?:是|叫)?"
    r"|我(?:的名字)?叫|我是(?:[\u4e00-\u9fff]{1,2}代表|业主|村民|居民|户主)?|本人(?:姓名|名字)?(?:是|叫)?|叫|大名(?:是|叫)?|就写|写上|my name is|i am|i'm|name(?=\s*:))[:\s]*",
    re.IGNORECASE,
)
_NAME_SUFFIX_RE = re.compile(r"(?:[,.!~。]|就行|就可以|吧|啊|呀)+$")
_MIDDLE_DOT_RE = re.compile(r"\s*[·•・∙⋅‧]\s*")
_CJK_NAME_RE = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+(?:·[\u4e00-\u9fff\u3400-\u4dbf]+)*")
_LATIN_NAME_RE = re.compile(r"[A-Za-z]+(?:[ .'-][A-Za-z]+)*")
_NOT_A_NAME = frozenset(
    "不知道 不想说 不告诉你 不方便 不方便说 匿名 保密 不想留 不愿意 算了 没有 无 不用了 不要 随便".split()
)


def check_name(text: str) -> Check:
    """A petitioner's name: 2-20 Chinese characters (with · for minority names) or Latin
    letters and spaces; "我叫", "姓名：" and similar lead-ins are removed."""
    value = _strip_name(normalize_text(text))
    if not value:
        return refused("name", "empty", example=EXAMPLE_NAME)
    if len(value) > MAX_TEXT_LEN or len(value) > NAME_MAX:
        return refused("name", "too_long", max=NAME_MAX, n=len(value), example=EXAMPLE_NAME)
    if value in _NOT_A_NAME or is_filler(value) or is_filler(value[: len(value) // 2]):
        return refused("name", "not_name", example=EXAMPLE_NAME)
    if any(c.isdigit() for c in value):
        return refused("name", "chars", key="digits", example=EXAMPLE_NAME)
    if not (_CJK_NAME_RE.fullmatch(value) or _LATIN_NAME_RE.fullmatch(value)):
        return refused("name", "chars", example=EXAMPLE_NAME)
    if len(value) < NAME_MIN:
        return refused("name", "too_short", min=NAME_MIN, example=EXAMPLE_NAME)
    return passed(value)


_NAME_FILLER_RE = re.compile(r"^(?:嗯+|哦|噢|那好|好的|好|行|那个|呃)[,.!\s]*")


# How a name is written, said after it: "唐永康，唐朝的唐、永远的永、健康的康", "陈福根，耳东陈",
# "孙晓东，晓是拂晓的晓", "冯建军 两点水的冯".
_PARTS = r"耳东|弓长|立早|木子|口天|双木|古月|文刀|言午|关耳|禾口|人可|草头|三横"
_RADICALS = r"两点水|三点水|草字头|木字旁|单人旁|双人旁|提手旁|言字旁|绞丝旁|耳朵旁|宝盖头|王字旁|金字旁|火字旁|土字旁|女字旁|日字旁"
_EXPLAINED_CHAR = (
    rf"(?:[\u4e00-\u9fff]是)?(?:[\u4e00-\u9fff]{{2}}|{_RADICALS})的[\u4e00-\u9fff]|(?:{_PARTS})[\u4e00-\u9fff]"
)
_EXPLANATIONS_RE = re.compile(rf"(?:[,，、\s]*(?:{_EXPLAINED_CHAR}))+")
_ONE_EXPLANATION_RE = re.compile(
    rf"(?:(?P<lead>[\u4e00-\u9fff])是)?(?:(?P<radical>{_RADICALS})|(?P<word>[\u4e00-\u9fff]{{2}}))的(?P<c>[\u4e00-\u9fff])"
    rf"|(?P<parts>(?:{_PARTS})[\u4e00-\u9fff])"
)
_NAME_BEFORE = 4  # an explained character belongs to the few characters just before


def drop_name_explanations(text: str) -> str:
    """``text`` without the explanations of how a name is written that follow the name.

    Each explained character must be a character of the name just before the run of
    explanations ("唐永康唐朝的唐" -> "唐永康"), and in a "X的Y" explanation Y must be part of X;
    "开发公司的公章" is left alone.
    """
    pieces, last = [], 0
    for run in _EXPLANATIONS_RE.finditer(text):
        before = re.sub(r"[,，、\s]", "", text[last : run.start()])[-_NAME_BEFORE:]
        if not before:
            continue
        ok = True
        for m in _ONE_EXPLANATION_RE.finditer(run.group(0)):
            char = m.group(0)[-1]
            if (
                char not in before
                or (m.group("word") and char not in m.group("word"))
                or (m.group("lead") and m.group("lead") != char)
            ):
                ok = False
                break
        if ok:
            pieces.append(text[last : run.start()])
            last = run.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _strip_name(text: str) -> str:
    text = drop_name_explanations(_NAME_FILLER_RE.sub("", text))
    value = _NAME_SUFFIX_RE.sub("", _NAME_PREFIX_RE.sub("", text)).strip()
    if any(is_cjk(c) for c in value):
        value = _MIDDLE_DOT_RE.sub("·", value).replace(" ", "")
    return value


# --- addresses -------------------------------------------------------------------------

_ADDRESS_PREFIX_RE = re.compile(
    r"^(?:(?:我的)?(?:家庭)?(?:住址|地址|家庭住址)(?:是|在)?|我(?:家)?(?:住|现住)(?:在)?|家住(?:在)?"
    r"|我家在|现住(?:在)?|住在)[:\s]*"
)
_ADDRESS_CUE_RE = re.compile(
    r"[省市区县镇乡村组路街道巷弄号楼栋幢室苑园府城湾]|单元|小区|社区|胡同|大厦|公寓|花园|新村|宿舍|[0-9]"
)
_NOT_AN_ADDRESS_RE = re.compile(r"^(?:不知道|不清楚|不想说|不方便|保密|没有|无|不告诉你|随便)")


def check_address(text: str) -> Check:
    """A residential address of 5-200 characters that looks like one ("我住在" removed)."""
    value = _ADDRESS_PREFIX_RE.sub("", normalize_text(text)).rstrip("。.").strip()
    if not value:
        return refused("address", "empty", example=EXAMPLE_ADDRESS)
    if len(value) > ADDRESS_MAX:
        return refused("address", "too_long", max=ADDRESS_MAX, n=len(value), example=EXAMPLE_ADDRESS)
    if _NOT_AN_ADDRESS_RE.match(value) or not _ADDRESS_CUE_RE.search(value):
        return refused("address", "not_address", example=EXAMPLE_ADDRESS)
    if len(value) < ADDRESS_MIN:
        return refused("address", "too_short", example=EXAMPLE_ADDRESS)
    return passed(value)


# --- free text -------------------------------------------------------------------------


def check_free_text(text: str, field: str, min_len: int | None = None, max_len: int | None = None) -> Check:
    """A free-text answer for ``field`` within the limits of the petition contract
    (``bot.rules.fields``; ``min_len``/``max_len`` override them); the message names the field
    and shows an example.

    ``value`` keeps the Chinese punctuation of the answer (see tidy_text).
    """
    spec = BY_SLOT.get(field)
    low = min_len if min_len is not None else (spec.min_len if spec and spec.min_len else 1)
    high = max_len if max_len is not None else (spec.max_len if spec and spec.max_len else MAX_TEXT_LEN)
    value = tidy_text(text)
    name = label(field)
    example = FREE_TEXT_EXAMPLES.get(field)
    how = message("free_text.example", example=example) if example else message("free_text.at_least", min=low)
    if not value:
        return failed("empty", message("free_text.empty", label=name, how=how))
    if len(value) > high:
        return failed("too_long", message("free_text.too_long", label=name, n=len(value), max=high, how=how))
    if len(value) < low:
        return failed("too_short", message("free_text.too_short", label=name, min=low, how=how))
    return passed(value)


# --- 复查 / 复核 ---------------------------------------------------------------------------

_STEP_NOT_TAKEN_RE = re.compile(
    r"(?:没|没有|未|还没|还没有|尚未|不曾|从没|从没有)(?:去)?(?:申请|提出|做|要求)?(?:过)?(?:复核|复查)"
)
_STEP_PENDING_RE = re.compile(
    r"(?:正在|还在|在|想|准备|打算|要|可以|能不能|能否|怎么|如何)(?:申请)?(?P<a>复核|复查)"
    r"|(?P<b>复核|复查)(?:中|还没|还未|尚未|没有结果|未出)"
)
_NO_REPLY_RE = re.compile(
    r"(?:没|没有|未|尚未)(?:收到|拿到|得到|给|给过|有)?(?:任何)?"
    r"(?:答复|回复|回音|结果|处理意见|意见书|说法|消息|下文|动静)"
    r"|还在(?:办|处理|调查|走流程)|正在(?:办|处理|调查)|在办理|办理中|处理中"
    r"|没人管|没人理|石沉大海|一直在等|还在等"
)
_REPLIED_RE = re.compile(
    r"(?:收到|拿到|得到|给了|给过|有了|出了|作出|做出)(?:了)?(?:书面)?(?:处理)?"
    r"(?:答复|回复|意见|结果|意见书)|已(?:经)?答复|答复(?:过|了)|回复(?:过|了)|处理意见书"
)
_UNKNOWN_RE = re.compile(r"不清楚|不知道|不记得|记不清|忘了|不太懂|不懂|说不清|不确定|搞不清")


def parse_review_stage(text: str) -> str | None:
    """Colloquial answer -> REVIEW_STAGES key: "复核过了" -> rechecked, "复查完了还不服" ->
    reviewed, "还没答复" -> no_reply_yet, "不清楚" -> unknown; None when unclear.

    A step not taken ("没申请复核") is ignored; a step under way or planned ("正在复核",
    "想申请复查") means the step before it is done.
    """
    value = normalize_text(text)
    if value in REVIEW_STAGES:
        return value
    for key, label in REVIEW_STAGES.items():
        if value == label:
            return key
    taken = _STEP_NOT_TAKEN_RE.sub("〇", value)
    pending = {m.group("a") or m.group("b") for m in _STEP_PENDING_RE.finditer(taken)}
    done = _STEP_PENDING_RE.sub("〇", taken)
    if "复核" in done:
        return "rechecked"
    if "复查" in done or "复核" in pending:
        return "reviewed"
    if "复查" in pending:
        return "replied"
    if _NO_REPLY_RE.search(value):
        return "no_reply_yet"
    if _REPLIED_RE.search(value) or "复查" in value:  # here "复查" is one not taken
        return "replied"
    if _UNKNOWN_RE.search(value):
        return "unknown"
    return None


# --- corrections -----------------------------------------------------------------------

# Most specific first: "被反映单位的名字" is the respondent, "身份证号码" is not the phone.
_FIELD_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("respondent", re.compile(r"被反映|反映对象|被投诉|投诉对象|举报对象|对方单位")),
    ("id_number", re.compile(r"身份证|证件号")),
    ("prior_case_no", re.compile(r"信访件编号|件编号|编号|件号|案号")),
    ("prior_body", re.compile(
        r"(?:此前|之前|以前|上次)反映的(?:单位|部门|时间)|向哪个(?:单位|部门)反映|反映过的(?:单位|部门)"
    )),
    ("phone", re.compile(r"电话|手机|联系方式|号码")),
    ("place", re.compile(r"发生|地点|哪个街道|哪个镇|街道|属地|出事的地方")),
    ("address", re.compile(r"住址|地址|住的地方|住处|家在哪|门牌")),
    ("petitioner_name", re.compile(r"姓名|名字|叫什么")),
    ("category", re.compile(r"类别|分类|类型|归类")),
    ("request", re.compile(r"诉求|要求|请求|想解决")),
    ("review_stage", re.compile(r"复查|复核")),
    ("group_size", re.compile(r"人数|多少人|几个人|几户")),
    ("is_first", re.compile(r"首次|第一次|初次")),
    ("facts", re.compile(r"经过|事实|事情|过程|情况")),
)


def detect_field(text: str) -> str | None:
    """Which form field a correction talks about ("电话写错了" -> "phone").

    The words before the new value name the field: in "地址写错了，应该是西湖区古荡街道…" the
    街道 inside the new address does not make it the place of the problem.
    """
    value = normalize_text(text)
    marker = _VALUE_MARKER_RE.search(value)
    for part in ((value[: marker.start()], value) if marker else (value,)):
        for field, pattern in _FIELD_CUES:
            if pattern.search(part):
                return field
    return None


_VALUE_MARKER_RE = re.compile(
    r"应该是|应当是|应是|应为|改成|改为|换成|换为|更正为|更改为|正确的是|其实是|(?<!不)是|:"
)
_VALUE_END_RE = re.compile(r"而不是|不是|[,;!?。，；！？]")
_NOT_A_VALUE_RE = re.compile(r"^不|错|改|一下|不对|什么|多少|哪")
_VALUE_TRIM = "「」“”\"'‘’《》 了的吧啊呀"
_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?[0-9][0-9 -]{5,}[0-9Xx](?![0-9A-Za-z])")


def extract_correction_value(text: str) -> str | None:
    """The corrected value in a correction message, if the citizen gave one.

    "电话写错了，应该是13912345678" -> "13912345678"; "名字打错了，是王芳不是王方" ->
    "王芳"; "地址改一下" -> None.
    """
    value = normalize_text(text)
    candidates = [_after_marker(value, m.end()) for m in _VALUE_MARKER_RE.finditer(value)]
    good = [c for c in candidates if c]
    if good:
        return good[-1]
    number = _NUMBER_RE.search(value)
    if number:
        return re.sub(r"[ -]", "", number.group())
    return _trailing_clause(value)


def _after_marker(text: str, start: int) -> str | None:
    rest = text[start:]
    end = _VALUE_END_RE.search(rest)
    candidate = (rest[: end.start()] if end else rest).strip(_VALUE_TRIM)
    if not candidate or _NOT_A_VALUE_RE.search(candidate):
        return None
    if _NUMBER_RE.fullmatch(candidate):
        return re.sub(r"[ -]", "", candidate)
    return candidate


def _trailing_clause(text: str) -> str | None:
    """"地址错了，文三路100号", "不是文新，公司在西溪那边" -> the clause after the one that says
    something is wrong."""
    clauses = [c.strip(_VALUE_TRIM) for c in re.split(r"[,;，；。]", text) if c.strip()]
    if len(clauses) < 2 or not re.search(r"错|改|不对|更正|修改|不是|不在", clauses[0]):
        return None
    last = clauses[-1]
    polite = re.search(r"麻烦|谢谢|好吗|可以吗|行吗|帮我|请|一下|错|改", last)
    return None if polite or not last else last


# --- yes / no --------------------------------------------------------------------------

_UNCLEAR_RE = re.compile(r"不知道|不清楚|不确定|不记得|记不清|忘了|说不好|不一定|也许|可能吧|随便|看情况")
# "之前反映过", "去年就找过": the matter was raised before (also read inside a whole message,
# bot/rules/understanding.py).
RAISED_BEFORE = (
    r"(?:之前|以前|此前|早就|已经|曾经|上次|去年|前年|上个月|早先)(?:也|都|就)?(?:已经)?(?:有)?"
    r"(?:反映|上访|信访|投诉|举报|来|找)过"
)
# "第一次反映", "从没反映过": raised for the first time.
FIRST_TIME = (
    r"(?:第一次|第一回|首次|头一次|头一回)(?:来)?(?:反映|上访|信访|投诉|找)"
    r"|(?:从来|从|还)?(?:没|没有|未曾|从未)(?:有)?(?:反映|上访|信访|投诉)过"
)
_NO_SPECIAL_RE = re.compile(
    rf"不是(?:我)?(?:的)?(?:第一次|第一回|首次|头一次|头一回)|{RAISED_BEFORE}"
    r"|第[二两三四五六七八九十几0-9]+[次回]|好几次|很多次|多次|无数次|[两三四五六七八九十几0-9]+次了"
)
_YES_SPECIAL_RE = re.compile(
    r"(?:没|没有|从没|从没有|从来没|从来没有|未|未曾)(?:有)?(?:反映|上访|信访|投诉|找)过|没问题|没错|第一次|第一回|首次|头一次|头一回"
)
_NO_SPECIAL_LATE_RE = re.compile(r"反映过|上访过|信访过|投诉过")
_NO_RE = re.compile(
    r"^(?:不|没|否|别|no\b|n$|nope)"
    r"|不是|不对|不同意|不要|不用|不行|不可以|不好|不需要|不确认|没有|取消|算了|拒绝|错了"
)
_YES_RE = re.compile(r"是|对|同意|好|可以|确认|确定|行|嗯|恩|要|需要|ok|yes|^y$|没错|正确|当然")
_QUESTION_RE = re.compile(
    r"[?？]|吗|什么|干嘛|干啥|为什么|为啥|怎么|啥|哪|多少|呢$"
    r"|是不是|对不对|好不好|行不行|可不可以|要不要|能不能|同不同意"
)
_ASKING_RE = re.compile(
    r"想知道|想了解|想问|请问|咨询|问一下|问问|告诉我|说说|说一下|规定|政策|流程|程序"
    r"|怎样|如何|咋|谁|多久|多长|(?<!好)几(?!次|回|年前|个月前|天前)|(.)不\1|有没有|\S还是(?!不|没|要|在|那|这|一样|老样子)"
    r"|会怎样|找不到|没了|搞丢|丢了|忘了|亲戚|朋友|建议|要求开|怕|地址和电话|吧$"
)
SHORT_ANSWER_CHARS = 15


def is_question(text: str) -> bool:
    """Whether a message asks something ("复查怎么申请", "请问复核期限") rather than tells
    ("前年向区里反映过，后来又复查复核了")."""
    value = normalize_text(text)
    return bool(_QUESTION_RE.search(value) or _ASKING_RE.search(value))


# Words people type while thinking ("那个", "呃……", "emm"): never a yes or a no, whatever a
# classifier trained on short answers makes of them. "嗯" is not here: it means yes.
_FILLER_RE = re.compile(r"(?:那个|这个|那啥|这啥|呃|额|啊这|啊|哦|噢|唔|emm*|um+|uh+|[\s,.!?~…。，！？、-])+")


def is_filler(text: str) -> bool:
    """True for a message of hesitation words only ("那个", "呃……", "emmm")."""
    return bool(_FILLER_RE.fullmatch(normalize_text(text).lower()))


def parse_yes_no(text: str) -> bool | None:
    """True for 是/对/同意/好的/可以/确认/第一次..., False for 不/不是/不同意/没有/之前反映过...,
    None when unclear, for a question back ("这个是干嘛的") and when a long message does
    not clearly answer."""
    value = normalize_text(text).lower()
    if _QUESTION_RE.search(value) and not _NO_SPECIAL_RE.search(value):
        return None  # "这个是干嘛的?", "是不是要填身份证": a question, not an answer
    value = re.sub(r"[\s,.!~。，！、]+", "", value)
    if not value or _UNCLEAR_RE.search(value):
        return None
    if _NO_SPECIAL_RE.search(value):
        return False
    if _YES_SPECIAL_RE.search(value):
        return True
    if _NO_SPECIAL_LATE_RE.search(value):
        return False
    if len(value) > SHORT_ANSWER_CHARS:
        return None
    if _NO_RE.search(value):
        return False
    if _YES_RE.search(value):
        return True
    return None
