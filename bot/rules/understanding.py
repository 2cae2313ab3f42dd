"""Everything one message says, read in one place.

Citizens do not answer one question at a time: "我叫王建国，身份证3301…，电话138…，住文新街道…。
我在三墩的工地干了半年，包工头欠我三万八" carries a name, an ID number, a phone number, a home
address and the matter itself. :func:`understand` finds each of these pieces by its own cue
("我叫", "身份证", "电话", "住在" …) or by its unmistakable form (a valid 18-character ID number, a
mobile number) and returns them as raw answers for the form slots of ``bot.rules.fields``; the
form checks each with the same check as a direct answer, so a piece read here is never trusted
more than one typed alone. What is left once the pieces are taken out is the citizen's account
of the matter (``story``).

Digits are read as people type them: full width, with spaces or dashes, or spelled in Chinese
characters ("幺三八…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.rules.case_numbers import case_no_span
from bot.rules.idcard import check_id_number
from bot.rules.jurisdiction import IN, OUT, resolve_place
from bot.rules.numbers import HOUSEHOLD_NOUNS, PERSON_NOUNS
from bot.rules.petition import FIRST_TIME, RAISED_BEFORE, drop_name_explanations
from bot.rules.phone import check_contact
from bot.rules.text import spelled_digits_to_arabic, tidy_text

# Common mistypings of the cue words by pinyin input (身份正, 电化号, 手几号).
_ID_CUE = r"(?:身份证|身份正|身分证|省份证|身份证件|证件)(?:号码|号|码)?"
_OTHER_DOC_CUE = r"(?:护照|港澳通行证|通行证|回乡证|台胞证|居留证|居住证|永久居留身份证)(?:号码|号)?"
_PHONE_CUE = r"(?:手机号码|手机号|手机|电话号码|电话号|电话|电化号|电化|手几号|手几|联系电话|联系方式|座机|固话|号码)"
_GLUE = r"(?:是|为|:|：|\s|码|的)*"
_ID_BODY = r"[0-9](?:[\s\-]?[0-9]){16}[\s\-]?[0-9Xx]"

_ID_RE = re.compile(rf"(?:{_ID_CUE}{_GLUE})?(?P<v>{_ID_BODY})(?![0-9A-Za-z])")
_OTHER_DOC_RE = re.compile(
    rf"(?P<cue>{_OTHER_DOC_CUE}){_GLUE}(?P<v>[A-Za-z0-9()（）\-](?:\s?[A-Za-z0-9()（）\-]){{4,23}})"
)
_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[\s\-]?)?1[3-9][0-9](?:[\s\-]?[0-9]){8}(?![0-9])")
_PHONE_CUED_RE = re.compile(rf"{_PHONE_CUE}{_GLUE}(?P<v>\+?[0-9][0-9\s\-()]{{5,18}}[0-9])")

# A name after an explicit lead-in; it ends where the next piece begins.
_NAME_END = r"(?=$|[，,。.;；!！？?、\s0-9]|是|身份|证件|电话|手机|联系|家住|住在|住|今年|现年|在|的|男|女|，)"
_NAME_RE = re.compile(
    rf"(?:我的(?:真实)?(?:姓名|名字)(?:是|叫)?|(?:姓名|名字)(?:是|叫|:|：)?|我叫|本人叫|本人姓名|俺叫|大名(?:是|叫)?"
    rf"|名字就写|就写|写上|登记成)"
    rf"(?:那个|这个|嗯|呃)?[，,\s]*(?P<v>[\u4e00-\u9fff]{{2,4}}?(?:·[\u4e00-\u9fff]{{1,8}})?){_NAME_END}"
)
# "我姓陈，陈福根": the surname said first, then the full name starting with it.
_SURNAME_THEN_NAME_RE = re.compile(r"我姓(?P<s>[\u4e00-\u9fff])[，,\s]*(?P<v>(?P=s)[\u4e00-\u9fff]{1,3}?)(?=$|[，,。\s])")
# "我是文新街道的李秀英": a name after where the citizen lives or works (not a role: 居民, 业主 …).
_NAME_AFTER_PLACE_RE = re.compile(
    r"我是[\u4e00-\u9fff0-9]{2,14}?的(?P<v>[\u4e00-\u9fff]{2,3})(?=[，,。\s]|$)"
)
# "是灵隐街道的居民": who the citizen is, wrapped around the answers; neither an answer nor the matter.
_SELF_DESCRIPTION_RE = re.compile(
    r"(?:我|本人)?是[\u4e00-\u9fff0-9]{2,14}?的?(?:居民|村民|业主|住户|租户|老住户|职工|员工)(?=$|[，,。；;\s])"
)
_ROLE_WORDS = re.compile(
    r"居民|业主|村民|员工|职工|工人|老师|学生|家长|租户|住户|老人|司机|农民|店主|商户|代表|人|户"
    r"|老太|老头|大爷|大妈|阿婆|婆婆|奶奶|爷爷|老汉|阿姨|大姐|大哥|妈妈|爸爸|母亲|父亲"
)
_ADDRESS_CUE = r"(?:家庭住址|居住地址|现住址|住址|地址|家住在|家住|我家住在|我家住|我住在|我住|现住在|现住|住在|(?:(?<=^)|(?<=[，,。；;\s]))住)"
_ADDRESS_RE = re.compile(rf"{_ADDRESS_CUE}(?:是|在|:|：)?\s*(?P<v>[^，,。；;！!？?]{{4,80}})")
# Where an address runs on into the next piece (a voice transcript has no commas).
_ADDRESS_STOP = re.compile(
    rf"{_PHONE_CUE}|{_ID_CUE}|我叫|我是|我在|我们|今年|[0-9]{{11,}}|(?<=[号室栋幢楼])(?=[^0-9A-Za-z一二三四五六七八九十])"
)
_ADDRESS_SHAPE = re.compile(r"[省市区县镇乡村组路街道巷弄号楼栋幢室苑园府城湾]|单元|小区|社区")

# First petition or a repeat (raised before: the earlier petition is asked about next).
_REPEAT_RE = re.compile(
    rf"{RAISED_BEFORE}|(?:之前|以前|已经|去年)(?:也|都|就)?(?:反映|上访|信访|投诉)了"
    r"|(?:又|再次|再一次|重新|第[二两三四五六七八九十几0-9]+[次回])(?:来)?(?:反映|上访|信访|投诉)"
    r"|反映(?:过)?(?:好几|很多|多|[两三四五六七八九十几0-9]+)次"
    r"|(?:复查|复核)(?:都|也)?(?:做|申请|办)?过|(?:做|申请)过(?:复查|复核)"
)
_FIRST_RE = re.compile(FIRST_TIME)
# A group: "我们十二个工人", "一共三十多户", "涉及二十几个人".
# (the group may be named by where it lives or works: "我们小区五十多户业主", "我们这条巷子五户人家")
_GROUP_RE = re.compile(
    r"(?:(?:我们|咱们|俺们)(?:这|那)?[条个栋幢片]?(?:小区|村里|村|楼里|楼|单元|巷子|弄堂|厂里|厂|公司|班|组|队|工地|街)?"
    r"|一共|总共|共有|共|涉及|有)(?:这)?(?:大约|大概|差不多|将近|起码|至少|有)?"
    r"(?P<v>(?:[0-9]+|[一二两三四五六七八九十百几]+)(?:多|来|余)?(?:个|名|位|户|家)?"
    rf"(?:{PERSON_NOUNS}|{HOUSEHOLD_NOUNS}|人|户|家))"
    r"|(?P<self>就我一个人|只有我一个人|就我一个|就我自己|我一个人反映|就我们?一?家|只有我们?一?家|就我们?这一户)"
)
# The other side, when named as an organisation in the story ("某某建筑劳务公司拖欠…").
_ORG_SUFFIX = r"(?:有限责任公司|有限公司|分公司|公司|物业服务中心|物业|开发商|集团|工厂|厂|幼儿园|中介)"
_RESPONDENT_RES = (
    re.compile(
        r"(?:被反映(?:人|单位|对象)(?:是|为|:|：)?|投诉(?:的是)?|举报(?:的是)?)"
        rf"(?P<v>[\u4e00-\u9fffA-Za-z0-9（）()]{{2,24}}?{_ORG_SUFFIX})"
    ),
    re.compile(
        rf"(?:^|[，,。；;\s])(?:我们(?:小区)?的?|这家|那家)?(?P<v>[\u4e00-\u9fffA-Za-z0-9（）()]{{2,24}}?{_ORG_SUFFIX})"
        r"(?=一直|长期|多次|拖欠|欠|不|没|乱|违规|违法|擅自|非法|把|将|强行|拒绝)"
    ),
)
# A message that is only an address ("西湖区文新街道丰潭路508号"): an answer, not an account.
_BARE_ADDRESS = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9（）()\-#]{4,60}(?:号|室|幢|栋|单元|楼|村|组|弄|小区|苑|园|公寓|大厦|宿舍)[0-9A-Za-z]*"
)
_PLACE_CUE = re.compile(
    r"(?:问题|事情|事儿|事)(?:是|就)?(?:出|发生)?在|地点(?:是|在)|发生在|(?:问题|事情|事儿)(?:就|也)?是(?:我们|咱们)"
)
# The matter told as happening where the citizen lives ("住西湖区转塘街道双流路12号。我们村…"):
# with the home address in the same message, its 街道/镇 is where the problem arose.
_AT_HOME = re.compile(r"我家|我们家|(?:我们|咱们|俺们)(?:这个|那个|这|那)?(?:小区|村|楼|栋|幢|单元|院子|大院)|楼上|楼下|隔壁")
# A request ends where the next thing said begins ("…退回来，这事我第一次反映").
# Words of the sentence around a name, never inside an organisation's name.
_NOT_AN_ORG = re.compile(r"我|你|一下|就是|那个|这个|什么|反映|投诉|举报")
_REQUEST_END = re.compile(r"[，,](?=这|我|之前|以前|已经|曾经|第|上次|去年|前年|电话|手机|身份|住|就我|只有我|一共|总共)")
_REQUEST_RE = re.compile(
    r"(?:我的诉求是|诉求是|诉求:|诉求：|我(?:们)?(?:的)?要求是|要求|请求|希望|想让|我想要|恳请|我?(?:就|只)想(?:要)?)"
    r"(?P<v>[^。！!？?；;]{4,200})"
)


@dataclass(frozen=True)
class Understanding:
    """The pieces of one message: raw answers by form slot, and the account of the matter."""

    answers: dict[str, Any] = field(default_factory=dict)
    story: str | None = None
    rest: str = ""  # the message without the pieces taken out (punctuation trimmed)
    place_said: bool = False  # the place was said as where the matter is, not only as the home

    def __bool__(self) -> bool:
        return bool(self.answers)


def working_text(text: str | None) -> str:
    """The message as the understanding reads it: tidy, digits half-width and Arabic."""
    return spelled_digits_to_arabic(tidy_text(text))


def understand(text: str | None, min_story: int = 12) -> Understanding:
    """The answers and the story in ``text`` (see the module docstring)."""
    work = drop_name_explanations(working_text(text))
    if not work:
        return Understanding()
    taken: list[tuple[int, int]] = []
    answers: dict[str, Any] = {}

    def take(slot: str, value: Any, span: tuple[int, int]) -> None:
        answers.setdefault(slot, value)
        taken.append(span)

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for m in _ID_RE.finditer(work):
        if check_id_number(m.group("v")).ok and free(*m.span()):
            take("id_number", m.group("v"), m.span())
            break
    if "id_number" not in answers:
        m = _OTHER_DOC_RE.search(work)
        if m and free(*m.span()):
            take("id_number", f"{m.group('cue')}{m.group('v')}", m.span())
    for pattern in (_PHONE_CUED_RE, _MOBILE_RE):
        for m in pattern.finditer(work):
            raw = m.group("v") if "v" in pattern.groupindex else m.group(0)
            if free(*m.span()) and check_contact(raw).ok:
                take("phone", raw, m.span())
                break
        if "phone" in answers:
            break
    for pattern in (_NAME_RE, _SURNAME_THEN_NAME_RE, _NAME_AFTER_PLACE_RE):
        m = pattern.search(work)
        if m and free(*m.span()) and not _ROLE_WORDS.search(m.group("v")):
            take("petitioner_name", m.group("v"), m.span())
            break
    for m in _SELF_DESCRIPTION_RE.finditer(work):
        if free(*m.span()):
            taken.append(m.span())
    m = _ADDRESS_RE.search(work)
    if m and free(*m.span()):
        value = m.group("v")
        stop = _ADDRESS_STOP.search(value, 3)
        if stop:
            value = value[: stop.start()]
        value = value.strip(" 的")
        if len(value) >= 5 and _ADDRESS_SHAPE.search(value):
            take("address", value, (m.start(), m.start("v") + len(value)))
    m = _GROUP_RE.search(work)
    if m:
        answers["group_size"] = m.group("v") or m.group("self")
    if _REPEAT_RE.search(work):
        answers["is_first"] = False
        # the number of the earlier petition told with it ("去年就反映过…，编号XF2025000321")
        earlier = case_no_span(work)
        if earlier and free(*earlier[1]):
            start, end = earlier[1]
            cue = re.search(r"(?:信访件)?(?:编号|件号)(?:是|为|:|：)?\s*$", work[:start])
            take("prior_case_no", earlier[0], (cue.start() if cue else start, end))
    elif _FIRST_RE.search(work):
        answers["is_first"] = True
    for pattern in _RESPONDENT_RES:
        m = pattern.search(work)
        if m and not _NOT_AN_ORG.search(m.group("v")):
            answers["respondent"] = m.group("v")
            break
    m = _REQUEST_RE.search(work)
    if m and free(*m.span()):
        value = _REQUEST_END.split(m.group("v"), maxsplit=1)[0].strip()
        end = m.start("v") + len(value)
        if len(value) >= 4:
            take("request", value, (m.start(), end))
    rest = _remove(work, taken)
    story = rest if len(rest) >= min_story and _has_words(rest) and not _BARE_ADDRESS.fullmatch(rest) else None
    # Where the problem arose: named in the account of the matter, or said as such ("问题出在三墩");
    # a 街道 named only as where the citizen lives is not it.
    cued = bool(rest and _PLACE_CUE.search(rest))
    place = resolve_place(rest) if rest and (story or cued) else None
    if place is not None and place.status == IN and place.subdivision:
        answers["place"] = place.subdivision
    elif place is not None and place.status == OUT and place.outside_area:
        answers["place"] = place.outside_area
    elif "address" in answers and (story or cued) and _AT_HOME.search(rest):
        home = resolve_place(answers["address"])
        if home.status == IN and home.subdivision:
            answers["place"] = home.subdivision
            cued = True
    return Understanding(answers, story, rest, place_said=cued)


def _remove(text: str, spans: list[tuple[int, int]]) -> str:
    kept, last = [], 0
    for start, end in sorted(spans):
        kept.append(text[last:start])
        kept.append("，")
        last = max(last, end)
    kept.append(text[last:])
    joined = "".join(kept)
    joined = re.sub(r"[，,、；;\s]*([，,。；;！!？?])[，,、；;\s]*", r"\1", joined)
    joined = re.sub(r"[，,]{2,}", "，", joined)
    return joined.strip("，,、；; 。.")


# Words that carry no matter: consent, fillers, the glue left around pieces taken out.
_EMPTY_WORDS = re.compile(r"可以|同意|好的|没问题|我的|就是|那个|这个|然后|还有|[嗯啊吧呢了呀哦]")
# Talk about the answers themselves ("想了想还是把身份证号给你吧"), not about the matter.
_ABOUT_ANSWERS = re.compile(r"身份证|证件|号码|电话|手机|名字|姓名|地址|住址|给你|告诉你|发给你")
_ABOUT_ANSWERS_MAX = 20


def _has_words(text: str) -> bool:
    words = _EMPTY_WORDS.sub("", text)
    if len(text) < _ABOUT_ANSWERS_MAX and _ABOUT_ANSWERS.search(text):
        return False
    return sum("\u4e00" <= c <= "\u9fff" for c in words) >= 8


# "这个事情找谁啊", "该找哪个部门", "归谁管": the citizen asks who handles the matter.
_WHO_HANDLES_RE = re.compile(
    r"找谁|找哪(?:个|家|里)?(?:部门|单位)?|(?:哪个|什么)(?:部门|单位|机关)(?:管|负责|处理|解决)"
    r"|归谁管|归哪(?:个)?(?:部门)?管|谁(?:来)?(?:管|负责|处理)|该去哪(?:里|儿)?(?:反映|投诉|办)"
)


def asks_who_handles(text: str | None) -> bool:
    """Whether the message asks which body handles the matter ("这个事情找谁啊")."""
    return bool(_WHO_HANDLES_RE.search(tidy_text(text)))
