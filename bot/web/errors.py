"""JSON errors for the API: ``{"error": code, "message": Chinese text}``, never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Paths answered with JSON errors (the console pages, later, keep HTML errors).
JSON_PATH_PREFIXES = ("/api/", "/healthz", "/readyz")

MESSAGES: dict[str, str] = {
    "bad_request": "请求格式不正确。",
    "invalid_json": "请求内容不是有效的 JSON 对象。",
    "idempotency_key_required": "缺少有效的 Idempotency-Key 请求头。",
    "unauthorized": "未授权：请提供有效的访问令牌。",
    "forbidden": "您无权执行此操作。",
    "not_found": "请求的内容不存在。",
    "method_not_allowed": "不支持该请求方法。",
    "idempotency_conflict": "该 Idempotency-Key 已用于另一份不同的提交，请勿重复使用。",
    "payload_too_large": "提交的内容过长，请精简后重新提交。",
    "validation_failed": "提交的信息有误，请按提示修改后重新提交。",
    "rate_limited": "查询过于频繁，请稍后再试。",
    "internal_error": "系统暂时无法处理您的请求，请稍后再试。",
    "not_ready": "服务暂时不可用，请稍后再试。",
}

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "idempotency_conflict",
    413: "payload_too_large",
    422: "validation_failed",
    429: "rate_limited",
    503: "not_ready",
}


class ApiError(Exception):
    """Raised by handlers; turned into a JSON response by ``error_middleware``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code) or MESSAGES["bad_request"]
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> web.Response:
        body = {"error": self.code, "message": self.message, **self.extra}
        return json_response(body, status=self.status, headers=self.headers)


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=json_dumps)


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if not _wants_json(request) or exc.status < 400:
            raise
        fallback = "internal_error" if exc.status >= 500 else "bad_request"
        code = _CODES_BY_STATUS.get(exc.status, fallback)
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return ApiError(exc.status, code, headers=headers).response()
    except Exception:
        # The traceback goes to the log (no request body is logged), never to the client.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json(request):
            raise
        return ApiError(500, "internal_error").response()


def body_size_middleware(max_bytes: int):
    """Refuse a declared body larger than ``max_bytes`` before reading it (HTTP 413).

    Bodies without a Content-Length are limited by the application's ``client_max_size``.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > max_bytes:
            raise ApiError(413, "payload_too_large")
        return await handler(request)

    return middleware
