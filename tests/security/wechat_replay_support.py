"""Runs in the Rasa environment (``.venv/rasa/bin/python``): the real WeChat input channel
(``connectors/wechat.py``) served by Sanic on a free local port, with a stand-in assistant that
records every message it is given and answers at once. The callbacks are built with wechatpy
exactly as WeChat signs and encrypts them. Two channel instances (two Rasa workers) may share
one Redis for the nonce store.

Prints one JSON object: for each callback sent, the HTTP status and body, and at the end the
messages that reached the assistant. Usage::

    python wechat_replay_support.py [REDIS_URL]
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import sys
import time
import urllib.parse
import uuid

import aiohttp
import xmltodict
from sanic import Sanic
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from connectors.wechat import WeChatConfig, WeChatInput

TOKEN = "replayTestToken42"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def text_xml(openid: str, content: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{secrets.randbelow(10**15)}</MsgId></xml>")


def callback(base: str, xml: str, *, timestamp: int | None = None, encrypted: bool = True) -> tuple[str, bytes]:
    stamp, nonce = str(timestamp if timestamp is not None else int(time.time())), str(secrets.randbelow(10**10))
    query = {"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    body = xml
    if encrypted:
        crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, stamp))["xml"]
        body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    return f"{base}?{urllib.parse.urlencode(query)}", body.encode("utf-8")


class OtherWorker(WeChatInput):
    """The same channel in a second worker (its own blueprint name in this one app)."""


async def main(redis_url: str) -> dict:
    received: list[str] = []

    async def assistant(message) -> None:  # the stand-in for Rasa's agent
        received.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")

    prefix = f"wechat-test-{uuid.uuid4().hex[:8]}:"
    app = Sanic(f"wechat_replay_{uuid.uuid4().hex[:8]}")
    # Two channel instances with their own state objects: two Rasa workers, one Redis.
    for worker, kind in (("a", WeChatInput), ("b", OtherWorker)):
        config = WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY,
                              api_base_url="http://127.0.0.1:9", redis_url=redis_url,
                              key_prefix=prefix)
        app.blueprint(kind(config).blueprint(assistant), url_prefix=f"/{worker}/wechat")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    servers = [server]
    urls = [f"http://127.0.0.1:{port}/{worker}/wechat/webhook" for worker in ("a", "b")]
    results: dict = {}
    try:
        async with aiohttp.ClientSession() as http:
            async def send(name: str, url: str, body: bytes) -> None:
                async with http.post(url, data=body) as response:
                    results[name] = [response.status, await response.text()]

            worker_a, worker_b = urls
            await send("plaintext", *callback(worker_a, text_xml("oPlain", "明文消息"), encrypted=False))
            await send("safe_mode", *callback(worker_a, text_xml("oSafe", "加密消息")))
            now = int(time.time())
            await send("six_minutes_old", *callback(worker_a, text_xml("oOld", "旧消息"), timestamp=now - 360))
            await send("six_minutes_ahead", *callback(worker_a, text_xml("oAhead", "未来消息"), timestamp=now + 360))
            await send("one_minute_old", *callback(worker_a, text_xml("oRecent", "一分钟前"), timestamp=now - 60))
            recorded = callback(worker_a, text_xml("oReplay", "被录下的消息"))
            await send("recorded", *recorded)
            await send("replayed", *recorded)
            # The same recorded request sent to another worker (the nonce store is shared).
            await send("replayed_other_worker", recorded[0].replace(worker_a, worker_b), recorded[1])
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
    if redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        results["redis_nonce_keys"] = len([k for k in keys if b":nonce:" in k])
        if keys:
            await client.delete(*keys)
        await client.close()
    results["received"] = received
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "")), ensure_ascii=False))
