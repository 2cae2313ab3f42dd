"""Who may do what: the permissions, the staff roles and the caller of a request.

Neutral ground for every layer: the case store checks a ``Principal`` before a workflow step,
the web layer builds one for each request (``bot/web/auth.py``), the console shows
``ROLE_LABELS``. Nothing here knows about HTTP or the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Permission(str, enum.Enum):
    CASE_CREATE = "case:create"
    CASE_READ = "case:read"
    # Seeing full ID and phone numbers (PIPL: sensitive personal information, audited).
    CASE_REVEAL = "case:reveal"
    # Seeing 检举控告 matters against officials (信访工作条例 第30条: kept confidential).
    CASE_CONFIDENTIAL = "case:confidential"
    STATS_READ = "stats:read"
    # Console workflow: accept / not accept / assign / reply / close, 复查 and 复核 requests.
    CASE_WORK = "case:work"
    # Decisions the head of the body approves: extension (第34条), 复查/复核 opinions.
    CASE_APPROVE = "case:approve"
    # Reading conversations (transcripts, review list) and labelling turns for retraining.
    CONVERSATION_READ = "conversation:read"
    NLU_LABEL = "nlu:label"
    NLU_EXPORT = "nlu:export"
    # Human handoff: take over a conversation, reply, hand back.
    HANDOFF = "handoff"
    # Filing a handoff request (the action server, for a citizen who asked for a person).
    HANDOFF_REQUEST = "handoff:request"
    # The citizen's rating of the handling, given in the chat (the action server; 第二十一条).
    CASE_RATE = "case:rate"
    # Leader reception days: booked from the chat (the action server), published and read by
    # staff of the 信访局 in the console; 包案 (a leader takes a case personally).
    RECEPTION_BOOK = "reception:book"
    RECEPTION_MANAGE = "reception:manage"
    CASE_LEAD = "case:lead"
    # Erasing an unfiled conversation at the citizen's request in the chat (the action server).
    CONVERSATION_ERASE = "conversation:erase"
    AUDIT_READ = "audit:read"
    USER_MANAGE = "user:manage"
    # Early warning (排查预警) and the 矛盾台账: read, and keep the ledger. Shown to 信访局
    # accounts only (not scoped to one unit): a cluster crosses units.
    EARLY_WARNING = "warning:read"
    LEDGER = "ledger:write"
    # Being a logged-in member of staff (dashboard, own password).
    CONSOLE = "console"


@dataclass(frozen=True)
class Principal:
    kind: str  # "service" or "staff"
    name: str
    permissions: frozenset[Permission]
    role: str | None = None
    user_id: int | None = None
    # The unit (责任单位) whose cases a member of staff sees; None: every unit (the 信访局 and
    # the service token of the action server).
    unit: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SERVICE_PERMISSIONS = frozenset(
    {
        Permission.CASE_CREATE,
        Permission.CASE_READ,
        Permission.STATS_READ,
        Permission.HANDOFF_REQUEST,
        Permission.CONVERSATION_ERASE,
        Permission.CASE_RATE,
        Permission.RECEPTION_BOOK,
    }
)
SERVICE_PRINCIPAL = Principal(kind="service", name="service", permissions=SERVICE_PERMISSIONS)

# Staff roles of the console. Officers work cases; supervisors (the head of the body) also
# approve extensions and review opinions, see personal numbers and read the audit log;
# administrators also manage accounts. No staff role files cases or handoff requests: those
# come from the conversation through the action server's token.
OFFICER = "officer"
SUPERVISOR = "supervisor"
ADMIN = "admin"
_OFFICER_PERMISSIONS = frozenset(
    {
        Permission.CONSOLE,
        Permission.CASE_READ,
        Permission.CASE_WORK,
        Permission.STATS_READ,
        Permission.CONVERSATION_READ,
        Permission.NLU_LABEL,
        Permission.HANDOFF,
        Permission.EARLY_WARNING,
        Permission.LEDGER,
        Permission.RECEPTION_MANAGE,
    }
)
_SUPERVISOR_PERMISSIONS = _OFFICER_PERMISSIONS | {
    Permission.CASE_LEAD,
    Permission.CASE_REVEAL,
    Permission.CASE_APPROVE,
    Permission.NLU_EXPORT,
    Permission.AUDIT_READ,
}
# 检举控告 against officials (第30条 confidentiality): only this role sees them, in its unit.
ACCUSATION_OFFICER = "accusation"
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    OFFICER: _OFFICER_PERMISSIONS,
    SUPERVISOR: _SUPERVISOR_PERMISSIONS,
    ADMIN: _SUPERVISOR_PERMISSIONS | {Permission.USER_MANAGE},
    ACCUSATION_OFFICER: _SUPERVISOR_PERMISSIONS | {Permission.CASE_CONFIDENTIAL},
}
ROLE_LABELS: dict[str, str] = {OFFICER: "办理人员", SUPERVISOR: "负责人", ADMIN: "系统管理员",
                               ACCUSATION_OFFICER: "检举控告办理人员"}

# The purpose (信访目的, bot/rules/categories.py) that marks a case as 检举控告.
CONFIDENTIAL_PURPOSE = "揭发控告"
