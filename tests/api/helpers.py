"""Request bodies and small helpers for the API tests."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from sqlalchemy import text
from stdnum.cn import ric

from tests.conftest import SERVICE_TOKEN

ID_NUMBER = "11010519491231002X"
ID_MASKED = "110105********002X"
PHONE = "13812345678"
PHONE_MASKED = "138****5678"

BASE_CASE: dict[str, Any] = {
    "conversation_id": "conv-0001",
    "channel": "web",
    "petitioner": {
        "name": "张三",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "address": "浙江省杭州市西湖区文三路100号",
    },
    "location": "西湖区古荡街道古墩路",
    "category": "城乡建设",
    "purpose": "求决",
    "respondent": "某物业公司",
    "facts": "小区楼下的道路施工已经三个月没有完工，夜间施工噪声很大，影响居民休息。",
    "request": "希望督促施工单位按期完工，夜间停止施工。",
    "is_repeat": False,
    "prior_case": None,
    "group_size": 1,
    "litigation": False,
}

CJK = re.compile(r"[\u4e00-\u9fff]")
DELETE = object()  # case_body(purpose=DELETE) leaves the field out


class _Citizens:
    """Every ``case_body()`` is another citizen: the first of a test has the documented
    ID_NUMBER and PHONE, later ones their own (valid) ID number and phone, so that filing
    several cases never looks like one petitioner bringing the same matter again (which the
    back office recognises, bot/store/repeats.py). A test about the same petitioner says so
    (``petitioner__id_number=...``). ``reset`` runs before each test (tests/conftest.py)."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def next(self) -> dict[str, str]:
        self.count += 1
        if self.count == 1:
            return {"id_number": ID_NUMBER, "phone": PHONE}
        body = f"33010619800101{self.count % 1000:03d}"
        return {"id_number": body + ric.calc_check_digit(body + "0"),
                "phone": f"1370000{self.count % 10000:04d}"}


CITIZENS = _Citizens()


def case_body(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE_CASE)
    body["petitioner"].update(CITIZENS.next())
    for key, value in overrides.items():
        if "__" in key:  # petitioner__phone="..." sets a nested field
            outer, inner = key.split("__", 1)
            body[outer][inner] = value
        elif value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def auth(token: str = SERVICE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_case(client, body: Any = None, *, key: str | None = None, token=SERVICE_TOKEN):
    headers = auth(token) if token else {}
    headers["Idempotency-Key"] = key or uuid.uuid4().hex
    return await client.post(
        "/api/v1/cases", json=case_body() if body is None else body, headers=headers
    )


async def create_case(client, body: Any = None, **kwargs) -> dict[str, Any]:
    response = await post_case(client, body, **kwargs)
    assert response.status == 201, await response.text()
    return await response.json()


async def count_rows(engine, table: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()


async def fetch_rows(engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


def has_chinese(message: str) -> bool:
    return bool(CJK.search(message or ""))
