"""The socket.io channel of the citizen chat page (``bot/citizen.py`` serves the page).

Rasa's own ``socketio`` channel (rasa 3.6.21) calls ``AsyncServer.enter_room`` without
``await``. Since python-socketio 5.10 that method is a coroutine, so with
``session_persistence: true`` the browser's socket never joins the room named after its
session and **no reply of the assistant ever reaches the page** (the log only shows
"coroutine 'AsyncServer.enter_room' was never awaited"). ``WebChatInput`` is that channel with
the ``session_request`` handler replaced:

- the socket joins the room of its session (awaited), so replies reach every tab of it;
- the session id a page brings back after a reload is kept only when it looks like one this
  channel hands out (32 hexadecimal characters); anything else gets a new id;
- a message is filed under the session its socket was confirmed for, never under a
  ``session_id`` the message itself names. A page can therefore never write into, or read
  the replies of, a conversation of another channel (``wechat-<openid>``, REST senders).

The channel keeps the name ``socketio``, so cases filed through it are recorded as ``web``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


def session_id_of(data: Any) -> str:
    """The session id the page asked to continue, when it is well formed; else a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(requested, str) and SESSION_ID.match(requested):
        return requested
    return uuid.uuid4().hex


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with working session persistence (credentials key: this path)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = session_id_of(data)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
                await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket %s joined session %s", sid, session_id)

        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=self.namespace)
                sender_id = session.get("session_id")
                if not sender_id:
                    logger.warning("socket %s sent a message before its session_request", sid)
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
