"""The citizen says "取消" or "撤回" while no petition form is in progress.

Before filing, cancelling is handled inside the form (a confirmation, then nothing is filed).
Outside the form there are two cases: nothing was filed, so there is nothing to cancel; or a
case was filed (in this conversation: slot ``case_no``; or the citizen names its number). A
filed petition cannot be withdrawn by the assistant: the citizen is told how staff do it (the
hotline, the reception place, or a person in this chat with 「转人工」), the same way the
personal-information notice (actions/prompts.yml ``consent.text``, item 7) promised. Texts:
``withdrawal.*`` in actions/prompts.yml.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.case_numbers import find_case_no

from actions import texts
from actions.common import latest_text
from actions.safety import safety_first


def filed_case_no(tracker: Tracker) -> str | None:
    """The case the citizen may mean: filed in this conversation, else named in the message."""
    return tracker.get_slot("case_no") or find_case_no(latest_text(tracker))


class ActionCancelOutsideForm(Action):
    """Nothing to cancel, or how a filed petition is withdrawn (staff record the withdrawal)."""

    def name(self) -> str:
        return "action_cancel_outside_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)
        if tracker.get_slot("intake_status") == "paused":
            # an unfinished petition (paused, or left and come back to): cleared, nothing filed
            from actions.intake import reset_petition

            dispatcher.utter_message(text=texts.text("withdrawal.paused_cancelled"))
            return reset_petition(tracker)
        case_no = filed_case_no(tracker)
        if not case_no:
            dispatcher.utter_message(text=texts.text("withdrawal.nothing_to_cancel"))
            return []
        dispatcher.utter_message(
            text=texts.text("withdrawal.after_filing", case_no=case_no),
            buttons=texts.buttons("withdrawal.after_filing"),
        )
        return []
