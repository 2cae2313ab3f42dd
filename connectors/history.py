"""The dialogue history of a tracker, replayed once per set of events (connectors/speedups.py).

To predict the next action, each policy turns the conversation into its list of states
(``Domain.states_for_tracker_history``): Rasa replays the whole history again for every
policy and every prediction, and works out the applied events (the history without
reverted turns and without the repeated turns of a form) again on every call of
``applied_events``, which ``get_last_event_for`` and the session check call too. Within one
prediction MemoizationPolicy and RulePolicy replay the same events, and the processor reads
the same applied events several times per message.

Here a tracker keeps, beside its events, the applied events and the replay of the history
(for each action: the tracker's state and what the rule-only filtering reads), computed for
exactly the events it holds now. A policy's states are then made from the kept replay, with
the filtering of ``states_for_tracker_history`` done as Rasa does it, on copies. Anything that
could change the result invalidates the copy kept: a different list of event objects, a
different domain, or a user message whose ``use_text_for_featurization`` was changed since
(``DefinePrevUserUtteredFeaturization`` changes the event object itself).
``tests/production/test_speedups.py`` compares the result with Rasa's for every prefix of
conversations that revert, restart, switch forms and are cut by ``max_event_history``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

PREVIOUS_ACTION = "prev_action"


@dataclass
class Turn:
    """What ``states_for_tracker_history`` reads of the tracker before one action."""

    hide_rule_turn: bool
    followup_action: Optional[str]
    latest_action_name: Optional[str]
    active_loop_name: Optional[str]
    previous_action: Any  # Domain._get_prev_action_sub_state(tracker)
    state: dict  # Domain.get_active_state(tracker, omit_unset_slots)


@dataclass
class Kept:
    """The replay of one list of events; valid while the tracker holds these very events."""

    events: tuple
    users: list  # (UserUttered event, its use_text_for_featurization when replayed)
    applied: Optional[list] = None
    loop_names: frozenset = frozenset()  # the names of the loops ``applied`` was worked out with
    turns: dict = field(default_factory=dict)  # (id(domain), omit_unset_slots) -> (domain, [Turn])
    # the applied events of the tracker's earlier events (loop names, applied events, how many
    # events), when the tracker's events now start with those very events
    earlier: Optional[tuple] = None

    def holds(self, events: Any) -> bool:
        return (len(events) == len(self.events) and all(map(operator.is_, events, self.events))
                and all(user.use_text_for_featurization == flag for user, flag in self.users))

    def extended_by(self, events: Any) -> bool:
        """Whether ``events`` are these events and then more (or these events again)."""
        return len(events) >= len(self.events) and all(map(operator.is_, events, self.events))

    def __deepcopy__(self, memo: dict) -> None:  # a copied tracker replays its own history
        return None

    def __copy__(self) -> None:
        return None

    def __reduce__(self) -> Any:
        return (type(None), ())


ATTRIBUTE = "_history_kept"


def kept(tracker: Any) -> Kept:
    """The tracker's kept replay for the events it holds now (a new, empty one if they changed)."""
    from rasa.shared.core.events import UserUttered

    found = tracker.__dict__.get(ATTRIBUTE)
    if found is not None and found.holds(tracker.events):
        return found
    events = tuple(tracker.events)
    users = [(e, e.use_text_for_featurization) for e in events if isinstance(e, UserUttered)]
    fresh = Kept(events, users)
    if found is not None and found.applied is not None and found.extended_by(events):
        fresh.earlier = (found.loop_names, found.applied, len(found.events))
    tracker.__dict__[ATTRIBUTE] = fresh
    return fresh


def install() -> None:
    """Replace, in this process: ``DialogueStateTracker.applied_events`` and
    ``Domain.states_for_tracker_history`` (the kept replay), ``DialogueStateTracker.copy``
    and ``FormAction._temporary_tracker`` (copies instead of replays), and the ``copy`` and
    ``dataclasses`` modules as ``rasa.shared.core.trackers`` sees them (``SlotCopy``,
    ``LoopAsDict``). Installing twice changes nothing."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    if getattr(DialogueStateTracker.applied_events, "_kept", False):
        return
    rasa_applied_events = DialogueStateTracker.applied_events
    DialogueStateTracker.applied_events = applied_events(rasa_applied_events)  # type: ignore[method-assign]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    DialogueStateTracker.copy = tracker_copy(DialogueStateTracker.copy)  # type: ignore[method-assign]
    from rasa.core.actions.forms import FormAction

    FormAction._temporary_tracker = form_tracker(FormAction._temporary_tracker)  # type: ignore[method-assign]
    import rasa.shared.core.trackers as trackers_module

    trackers_module.dataclasses = LoopAsDict(trackers_module.dataclasses)  # type: ignore[assignment]
    trackers_module.copy = SlotCopy(trackers_module.copy)  # type: ignore[assignment]


class ModuleView:
    """A module as ``rasa.shared.core.trackers`` sees it: the module itself, except for what
    a subclass defines."""

    def __init__(self, module: Any):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


class SlotCopy(ModuleView):
    """The ``copy`` module as ``DialogueStateTracker.__init__`` sees it (its one use there:
    ``copy.copy`` of each of the domain's slots, for every tracker made, the replays of
    the history included), with ``copy_slot`` as ``copy``."""

    @staticmethod
    def copy(value: Any) -> Any:
        return copy_slot(value)


ATOMIC = frozenset({str, int, float, bool, type(None)})


class LoopAsDict(ModuleView):
    """The ``dataclasses`` module as ``DialogueStateTracker.current_state`` sees it, with an
    ``asdict`` that copies the active loop (its ``trigger_message`` is the parsed message that
    started the form, copied for every call of an action) by a loop over plain dicts, lists
    and atomic values instead of ``dataclasses``' generic one; anything else is copied by
    ``dataclasses`` itself. The same value, a copy as deep."""

    def asdict(self, obj: Any, *, dict_factory: Callable = dict) -> Any:
        from rasa.shared.core.trackers import TrackerActiveLoop

        if type(obj) is not TrackerActiveLoop or dict_factory is not dict:
            return self._module.asdict(obj, dict_factory=dict_factory)
        inner = self._module._asdict_inner
        return {field.name: plain_copy(getattr(obj, field.name), inner)
                for field in self._module.fields(obj)}


def plain_copy(value: Any, inner: Callable) -> Any:
    """``dataclasses._asdict_inner(value, dict)`` for JSON-like values, without its checks."""
    kind = type(value)
    if kind in ATOMIC:
        return value
    if kind is dict:
        return {(key if type(key) in ATOMIC else inner(key, dict)): plain_copy(item, inner)
                for key, item in value.items()}
    if kind is list:
        return [plain_copy(item, inner) for item in value]
    return inner(value, dict)


# What a tracker holds (DialogueStateTracker.__init__), and all that Rasa's copy holds: what
# else was set on a tracker (the tracker store's bookkeeping, the kept replay) is not copied.
TRACKER_ATTRIBUTES = frozenset({
    "_max_event_history", "events", "sender_id", "slots", "sender_source", "is_rule_tracker", "_paused",
    "followup_action", "latest_action", "latest_message", "latest_bot_utterance", "active_loop",
    "model_id", "assistant_id",
})


def copy_slot(slot: Any) -> Any:
    """``copy.copy(slot)``: for a class without its own copying, what ``copy.copy`` does
    (a new object of the class with the same attributes), without its protocol look-ups."""
    import copy as copying
    import copyreg

    kind = type(slot)
    plain = PLAIN_CLASSES.get(kind)
    if plain is None:
        plain = PLAIN_CLASSES[kind] = (
            kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__
            and not hasattr(kind, "__copy__") and not hasattr(kind, "__setstate__")
            and not any(vars(c).get("__slots__") for c in kind.__mro__) and not hasattr(kind, "__getstate__")
            and kind.__new__ is object.__new__ and kind not in copyreg.dispatch_table)
    if not plain:
        return copying.copy(slot)
    new = object.__new__(kind)
    new.__dict__.update(slot.__dict__)
    return new


PLAIN_CLASSES: dict = {}


# What a slot holds besides its definition (its value, and whether it was set).
SLOT_VALUE = frozenset({"_value", "_has_been_set"})


def same_definitions(slots: dict, definitions: Any) -> bool:
    """Whether a tracker's slots are those ``definitions`` (the domain's) would give it."""
    definitions = list(definitions)
    if len(slots) != len(definitions):
        return False
    for definition in definitions:
        slot = slots.get(definition.name)
        if type(slot) is not type(definition):
            return False
        mine, theirs = vars(slot), vars(definition)
        if mine.keys() != theirs.keys() or any(
                mine[key] != theirs[key] for key in theirs if key not in SLOT_VALUE):
            return False
    return True


def form_tracker(rasa_temporary_tracker: Callable) -> Callable:
    """``FormAction._temporary_tracker`` without replaying the history. Rasa makes the
    tracker that a form's validation action gets (on every turn of the form) as a new tracker
    with the domain's slots, applying the events since the latest restart and then a few
    more; here, for a tracker that was never restarted and whose slots are the domain's, the
    tracker is copied (``tracker_copy``, as Rasa's new tracker: no ``model_id``, no
    ``sender_source``, not a rule tracker, no ``max_event_history``) and the few events are
    applied to the copy. Any other tracker goes to Rasa's replay."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, SlotSet

    def _temporary_tracker(self: Any, current_tracker: Any, additional_events: list, domain: Any) -> Any:
        if (current_tracker._max_event_history is not None or current_tracker.idx_after_latest_restart() != 0
                or type(current_tracker.slots) is not dict
                or not same_definitions(current_tracker.slots, domain.slots)):
            return rasa_temporary_tracker(self, current_tracker, additional_events, domain)
        tracker = current_tracker.copy()
        tracker.sender_id = current_tracker.sender_id
        tracker.is_rule_tracker = False
        for event in [SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
                      ActionExecuted(self.name()), *additional_events]:
            tracker.update(event, domain)
        return tracker

    _temporary_tracker.__doc__ = rasa_temporary_tracker.__doc__
    return _temporary_tracker


def tracker_copy(rasa_copy: Callable) -> Callable:
    """``DialogueStateTracker.copy`` without replaying the history: Rasa makes the copy (for
    every action the processor runs) by applying every event again to a new tracker, whose
    state is then the tracker's own state; here that state is copied directly. The new
    tracker has, like Rasa's copy, no ``model_id`` or ``assistant_id`` and nothing else
    that was set on the tracker. A tracker that forgot its first events
    (``max_event_history``) is copied by Rasa's replay."""
    import dataclasses
    from collections import deque

    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    def copy(self: Any) -> Any:
        attributes = self.__dict__
        if (type(self) is not DialogueStateTracker or self._max_event_history is not None
                or type(self.slots) is not dict or not TRACKER_ATTRIBUTES.issubset(attributes)):
            return rasa_copy(self)
        new = DialogueStateTracker.__new__(DialogueStateTracker)
        new.__dict__.update({key: attributes[key] for key in TRACKER_ATTRIBUTES})
        new.events = deque(self.events, None)
        new.slots = {name: copy_slot(slot) for name, slot in self.slots.items()}
        new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
        new.active_loop = dataclasses.replace(self.active_loop) if self.active_loop is not None else None
        new.sender_id = self.sender_id or DEFAULT_SENDER_ID  # as Rasa's init_copy makes them
        new.sender_source = None
        new.model_id = None
        new.assistant_id = None
        return new

    copy.__doc__ = rasa_copy.__doc__
    return copy


def applied_events(rasa_applied_events: Callable) -> Callable:
    def kept_applied_events(self: Any) -> list:
        from rasa.shared.core.events import ActiveLoop

        entry = kept(self)
        if entry.applied is None and entry.earlier is not None:
            loop_names, applied, consumed = entry.earlier
            added = entry.events[consumed:]
            if not any(isinstance(e, ActiveLoop) and e.name and e.name not in loop_names for e in added):
                entry.applied, entry.loop_names = go_on_applying(self, added, loop_names, list(applied)), loop_names
        if entry.applied is None:
            entry.applied = rasa_applied_events(self)
            entry.loop_names = frozenset(e.name for e in entry.events if isinstance(e, ActiveLoop) and e.name)
        entry.earlier = None
        return list(entry.applied)

    kept_applied_events._kept = True  # type: ignore[attr-defined]
    kept_applied_events.__doc__ = rasa_applied_events.__doc__
    return kept_applied_events


def go_on_applying(tracker: Any, events: Any, loop_names: frozenset, applied: list) -> list:
    """The loop of ``DialogueStateTracker.applied_events`` over further ``events``, from the
    applied events of the earlier ones (its loop names are those of all the events: no
    further event starts a loop not seen before)."""
    from rasa.shared.core.events import (
        ActionExecuted, ActionReverted, Restarted, SessionStarted, UserUtteranceReverted, UserUttered)

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def replay(domain: Any, tracker: Any, omit_unset_slots: bool) -> list[Turn]:
    """Rasa's replay of the history (``generate_all_prior_trackers``), reading at each action
    everything that ``states_for_tracker_history`` reads of the tracker."""
    return [
        Turn(
            hide_rule_turn=hide_rule_turn,
            followup_action=tr.followup_action,
            latest_action_name=tr.latest_action_name,
            active_loop_name=tr.active_loop_name,
            previous_action=domain._get_prev_action_sub_state(tr),
            state=domain.get_active_state(tr, omit_unset_slots=omit_unset_slots),
        )
        for tr, hide_rule_turn in tracker.generate_all_prior_trackers()
    ]


def _copy(sub_state: Any, copies: dict) -> Any:
    """A copy of one sub-state (a dict of strings and tuples), the same copy wherever the
    same sub-state appears (Rasa's states share them the same way)."""
    if not isinstance(sub_state, dict):
        return sub_state
    copied = copies.get(id(sub_state))
    if copied is None:
        copied = copies[id(sub_state)] = dict(sub_state)
    return copied


def states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[dict[str, Any]] = None,
) -> list:
    """``Domain.states_for_tracker_history`` on the tracker's kept replay: the same loop over
    the tracker before each action, on copies of the states."""
    entry = kept(tracker)
    key = (id(self), omit_unset_slots)
    found = entry.turns.get(key)
    if found is None or found[0] is not self:
        found = entry.turns[key] = (self, replay(self, tracker, omit_unset_slots))
    turns = found[1]

    copies: dict = {}
    states: list = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for turn in turns:
        if ignore_rule_only_turns:
            # remember previous ml action based on the last non hidden turn
            if not turn_was_hidden:
                last_ml_action_sub_state = _copy(turn.previous_action, copies)
            # followup action or happy path loop prediction
            # don't change the fact whether dialogue turn should be hidden
            if not turn.followup_action and not turn.latest_action_name == turn.active_loop_name:
                turn_was_hidden = turn.hide_rule_turn
            if turn_was_hidden:
                continue

        state = {kind: _copy(sub_state, copies) for kind, sub_state in turn.state.items()}

        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state

        states.append(self._clean_state(state))

    return states
