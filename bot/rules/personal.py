"""Slots that hold personal information besides the form's answers (no dependencies: the
Rasa-side tracker store imports it too)."""

from __future__ import annotations

# The proposed category, the lookups' case number and query code, the last filed case's query
# code, and details told before consent (actions/understanding.py).
EXTRA_PERSONAL_SLOTS: frozenset[str] = frozenset(
    {"category_guess", "lookup_case_no", "lookup_query_code", "query_code", "pending_answers"}
)
