"""The 矛盾台账 (ledger of major conflicts): risk levels and statuses with their labels, one
list for the console, its CSV export and the printable page."""

from __future__ import annotations

RISK_LEVELS: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}

RESOLVING = "resolving"
RESOLVED = "resolved"
STABLE = "stable"
LEDGER_STATUSES: dict[str, str] = {RESOLVING: "化解中", RESOLVED: "已化解", STABLE: "稳控"}

# A step not done by its due date is shown as 督办 (supervised).
OVERDUE_LABEL = "督办"

TITLE_MAX = 255
NAME_MAX = 64
UNIT_MAX = 128
TEXT_MAX = 2000

# Columns of the CSV export and the printable page, in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "编号", "名称", "包案领导", "责任单位", "风险等级", "状态", "涉及信访件", "化解措施",
    "督办（逾期未完成的措施）", "建立人", "建立时间", "更新时间",
)
