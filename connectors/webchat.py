"""The socket.io channel of the citizen chat page (``bot/citizen.py`` serves the page).

Rasa's own ``socketio`` channel (rasa 3.6.21) calls ``AsyncServer.enter_room`` without
``await``. Since python-socketio 5.10 that method is a coroutine, so with
``session_persistence: true`` the browser's socket never joins the room named after its
session and **no reply of the assistant ever reaches the page** (the log only shows
"coroutine 'AsyncServer.enter_room' was never awaited"). ``WebChatInput`` is that channel with
the ``session_request`` handler replaced:

- the socket joins the room of its session (awaited), so replies reach every tab of it;
- the session id is the page's bearer secret, signed by this server: 16 random hexadecimal
  characters and 16 of their HMAC under ``WEBCHAT_SESSION_SECRET``
  (``bot/rules/conversation_ids.py``). The id a page brings back after a reload is kept only
  when this server signed it; anything else (an id read off a screen of old, a guessed or a
  forged one, another channel's sender id) gets a new conversation;
- neither the session id nor the socket id is written to a log (a short keyed hash is);
- a message is filed under the session its socket was confirmed for, never under a
  ``session_id`` the message itself names. A page can therefore never write into, or read
  the replies of, a conversation of another channel (``wechat-<openid>``, REST senders).

The channel keeps the name ``socketio``, so cases filed through it are recorded as ``web``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.rules.conversation_ids import conversation_tag, is_signed_web_session_id, new_web_session_id
from bot.settings.channels import channel_settings

logger = logging.getLogger(__name__)


def session_id_of(data: Any, secret: str) -> str:
    """The session id the page asked to continue, when this server signed it; else a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if is_signed_web_session_id(secret, requested):
        return requested  # type: ignore[return-value]
    return new_web_session_id(secret)


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with working session persistence (credentials key: this path)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint

        secret = channel_settings().webchat_session_secret

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = session_id_of(data, secret)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
                await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("a socket joined conversation %s", conversation_tag(secret, session_id))

        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=self.namespace)
                sender_id = session.get("session_id")
                if not sender_id:
                    logger.warning("a socket sent a message before its session_request")
                    return
            else:
                sender_id = sid
            text = data.get("message", "")
            if not isinstance(text, str):
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
            )

        # Registering an event again replaces Rasa's handler of it.
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return webhook
