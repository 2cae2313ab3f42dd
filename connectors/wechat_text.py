"""What the WeChat channel says and how the assistant's messages become WeChat text messages.

Pure functions (no Rasa, no network), so they are tested on their own:

- ``render_turn(messages)``: the messages of one turn of the assistant (dicts as Rasa's
  ``CollectingOutputChannel`` collects them) → the WeChat texts to send, in order, each at most
  ``max_bytes`` bytes of UTF-8, and the choices the citizen can answer with a number. WeChat
  has no buttons in an ordinary chat: the buttons of the last message that has any are listed
  as numbered choices ("回复数字即可选择"); the number maps back to the button's payload.
- ``split_text(text, max_bytes)``: a long text is cut between paragraphs, else between lines,
  else after a sentence mark, and only as a last resort inside a sentence.
- ``choice_of(text, choices)``: "2", "２", "2." or "第2项" → the payload of choice 2.

The texts the channel itself sends (welcome notice, unsupported message types) are filled
from the jurisdiction configuration (agency, hotline) and the privacy page's public URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

# WeChat's text messages (passive replies and customer-service messages) are limited to
# 2048 bytes; a margin is kept.
DEFAULT_MAX_BYTES = 2000
CHOICES_HEADER = "回复数字即可选择："
CHOICE_LINE = "{number}. {title}"

WELCOME_NOTICE = (
    "个人信息保护提示：只有在您决定登记信访事项时，我们才会收集姓名、身份证号码、手机号码和住址等信息，"
    "收集前会先说明用途、保存期限和您的权利，并征得您的同意。"
    "个人信息处理者：{agency}。详细说明请见《个人信息处理说明》：{privacy_url}"
    "。如有疑问，请拨打{hotline}。"
)
UNSUPPORTED = (
    "抱歉，目前只能处理文字消息和语音消息（语音会自动转成文字）。"
    "请用文字简要说明您遇到的问题，我来帮您登记或解答。"
    "如需提交图片、文件等材料，请在登记后按工作人员的告知提交，或到{agency}接待场所当面提交。"
)
VOICE_NOT_RECOGNISED = "抱歉，没有听清您的语音。请再说一遍，或者直接发送文字。"
EMPTY_TEXT = "请用文字简要说明您遇到的问题，我来帮您登记或解答。"
FAILED = "抱歉，系统暂时繁忙，这条消息没有处理成功，请稍后再发一次。您之前填写的信息都已保留。"

# Sentence ends and other good places to cut a long line.
_SENTENCE_END = "。！？；!?;…"
_NUMBER = re.compile(r"^\s*(?:第\s*)?([0-9０-９]{1,2})\s*(?:项|个|条)?\s*[.。、)）]?\s*$")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class RenderedTurn:
    texts: list[str]
    choices: list[Choice]  # empty: the last turn offered nothing to choose

    @property
    def fits_one_reply(self) -> bool:
        return len(self.texts) <= 1


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_cut(text: str, max_bytes: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for char in text:
        if utf8_len(current + char) > max_bytes:
            parts.append(current)
            current = char
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def _sentences(line: str) -> list[str]:
    """A line cut after each sentence mark (the mark stays with its sentence)."""
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(line):
        if char in _SENTENCE_END:
            pieces.append(line[start : index + 1])
            start = index + 1
    if start < len(line):
        pieces.append(line[start:])
    return pieces


def _pack(pieces: Iterable[str], separator: str, max_bytes: int, smaller) -> list[str]:
    """Greedily join ``pieces`` with ``separator`` into parts of at most ``max_bytes``; a piece
    that is too long on its own is cut further by ``smaller``."""
    parts: list[str] = []
    current: Optional[str] = None
    for piece in pieces:
        if utf8_len(piece) > max_bytes:
            if current is not None:
                parts.append(current)
                current = None
            parts.extend(smaller(piece, max_bytes))
            continue
        candidate = piece if current is None else current + separator + piece
        if utf8_len(candidate) <= max_bytes:
            current = candidate
        else:
            parts.append(current)  # type: ignore[arg-type]
            current = piece
    if current is not None:
        parts.append(current)
    return parts


def _split_line(line: str, max_bytes: int) -> list[str]:
    return _pack(_sentences(line), "", max_bytes, _hard_cut)


def _split_paragraph(paragraph: str, max_bytes: int) -> list[str]:
    return _pack(paragraph.split("\n"), "\n", max_bytes, _split_line)


def split_text(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """``text`` in parts of at most ``max_bytes`` bytes, cut at the most natural places."""
    text = text.strip()
    if not text:
        return []
    parts = _pack(text.split("\n\n"), "\n\n", max_bytes, _split_paragraph)
    return [part.strip() for part in parts if part.strip()]


def _message_text(message: Mapping[str, Any]) -> str:
    """The text of one collected message, buttons left out."""
    lines: list[str] = []
    if message.get("text"):
        lines.append(str(message["text"]).strip())
    if message.get("image"):
        lines.append(f"图片：{message['image']}")
    attachment = message.get("attachment")
    if isinstance(attachment, str) and attachment:
        lines.append(attachment)
    elif isinstance(attachment, Mapping):
        src = (attachment.get("payload") or {}).get("src") if isinstance(attachment.get("payload"), Mapping) else None
        if src:
            lines.append(f"附件：{src}")
    return "\n".join(line for line in lines if line)


def _buttons(message: Mapping[str, Any]) -> list[Choice]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    choices = []
    for button in raw:
        if isinstance(button, Mapping) and button.get("title") and button.get("payload"):
            choices.append(Choice(str(button["title"]), str(button["payload"])))
    return choices


def choices_text(choices: Sequence[Choice]) -> str:
    lines = [CHOICES_HEADER]
    lines.extend(CHOICE_LINE.format(number=n, title=c.title) for n, c in enumerate(choices, 1))
    return "\n".join(lines)


def render_turn(
    messages: Sequence[Mapping[str, Any]], max_bytes: int = DEFAULT_MAX_BYTES
) -> RenderedTurn:
    """The WeChat texts of one turn and its numbered choices (see the module docstring)."""
    last_with_buttons = max(
        (index for index, message in enumerate(messages) if _buttons(message)), default=None
    )
    blocks: list[str] = []
    choices: list[Choice] = []
    for index, message in enumerate(messages):
        text = _message_text(message)
        buttons = _buttons(message)
        if buttons and index == last_with_buttons:
            choices = buttons
            text = f"{text}\n\n{choices_text(buttons)}" if text else choices_text(buttons)
        elif buttons:  # an earlier message's buttons: shown, but not numbered
            titles = "\n".join(f"· {choice.title}" for choice in buttons)
            text = f"{text}\n{titles}" if text else titles
        if text:
            blocks.append(text)
    return RenderedTurn(split_text("\n\n".join(blocks), max_bytes), choices)


def choice_of(text: str, choices: Sequence[Choice]) -> Optional[str]:
    """The payload of the numbered choice ``text`` names, if it names one of ``choices``."""
    if not choices:
        return None
    match = _NUMBER.match(text.translate(_FULLWIDTH_DIGITS))
    if not match:
        return None
    number = int(match.group(1).translate(_FULLWIDTH_DIGITS))
    if 1 <= number <= len(choices):
        return choices[number - 1].payload
    return None


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` safe inside wechatpy's ``<![CDATA[...]]>``: no characters XML forbids, and a
    ``]]>`` (which would end the section; citizens' own words are read back) split in two."""
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")
