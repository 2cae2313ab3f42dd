"""Who may reach a conversation: the conversation ids each channel hands out.

A conversation id (Rasa's sender id) is the only thing that ties a message to a
conversation, so each channel owns a namespace of ids no other channel can write into:

- REST channel (tests, curl, trusted integrations): always ``rest-<given>``. A sender that
  already starts with ``rest-`` is kept, anything else gets the prefix, so a REST call naming
  ``wechat-<OpenID>`` or a web chat's session id reaches ``rest-wechat-…`` / ``rest-<hex>``,
  a conversation of its own.
- web chat (socket.io): 32 hexadecimal characters, 16 random and 16 of an HMAC-SHA256 of
  them under the channel's secret (``WEBCHAT_SESSION_SECRET``). The id is the page's bearer
  secret: a page that brings back an id this server did not sign gets a new conversation.
- WeChat: ``wechat-<OpenID>``, only from messages WeChat signed.

The id of a web chat is therefore never shown or logged: screens and log lines show
``conversation_tag()``, a short keyed hash that tells conversations apart and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

REST_PREFIX = "rest-"
WEB_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_NONCE_CHARS = 16
TAG_CHARS = 10


def rest_sender(given: str) -> str:
    """The conversation id of a REST sender: always in the ``rest-`` namespace."""
    return given if given.startswith(REST_PREFIX) else REST_PREFIX + given


def _signature(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"webchat-session:" + nonce.encode(), hashlib.sha256)
    return digest.hexdigest()[:_NONCE_CHARS]


def new_web_session_id(secret: str) -> str:
    """A fresh, signed web chat session id (32 hexadecimal characters)."""
    nonce = secrets.token_hex(_NONCE_CHARS // 2)
    return nonce + _signature(secret, nonce)


def is_signed_web_session_id(secret: str, value: object) -> bool:
    """True for a session id this secret signed (compared in constant time)."""
    if not isinstance(value, str) or not WEB_SESSION_ID.match(value):
        return False
    nonce, signature = value[:_NONCE_CHARS], value[_NONCE_CHARS:]
    return hmac.compare_digest(signature, _signature(secret, nonce))


def conversation_tag(key: str, conversation_id: object) -> str:
    """A short keyed hash of a conversation id, for screens and log lines (10 hex)."""
    value = conversation_id if isinstance(conversation_id, str) else repr(conversation_id)
    digest = hmac.new(key.encode("utf-8"), b"conversation:" + value.encode("utf-8", "replace"),
                      hashlib.sha256)
    return digest.hexdigest()[:TAG_CHARS]
