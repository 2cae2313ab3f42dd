"""How the console names a conversation without showing its id.

A web chat's conversation id is the citizen's bearer secret (``bot/rules/conversation_ids.py``),
so no console page shows or embeds one: pages show ``conversation_tag`` (the first 10
hexadecimal characters of an HMAC-SHA256 under ``BACKOFFICE_HMAC_KEY``), and links and forms
carry ``conversation_ref``, the id encrypted with the case store's Fernet keys, which only this
server can turn back into the id.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.rules.conversation_ids import conversation_tag as keyed_tag
from bot.web.keys import CRYPTO, SETTINGS


def conversation_tag(app: web.Application, conversation_id: str) -> str:
    return keyed_tag(app[SETTINGS].hmac_key, conversation_id)


def conversation_ref(app: web.Application, conversation_id: str) -> str:
    return app[CRYPTO].encrypt(conversation_id)


def resolve_ref(app: web.Application, value: object) -> str:
    """The conversation id of a reference ("" when it is none of this server's)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return app[CRYPTO].decrypt(value.strip())
    except Exception:  # not a token of these keys
        return ""


def conversation_url(app: web.Application, conversation_id: str) -> str:
    return "/console/conversations/view?" + urlencode({"c": conversation_ref(app, conversation_id)})
