"""Every custom action the domain names is served by the action server (and nothing else)."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

# Actions that Rasa itself provides: the server never asks the action server for them.
RASA_BUILT_IN = {"action_deactivate_loop", "action_default_fallback", "action_listen", "action_restart"}


def test_the_action_server_serves_exactly_the_domains_custom_actions(domain):
    executor = ActionExecutor()
    executor.register_package("actions")
    served = set(executor.actions)
    names = {next(iter(a)) if isinstance(a, dict) else a for a in domain["actions"]}  # "name: {send_domain: …}"
    declared = {a for a in names if a not in RASA_BUILT_IN}
    assert declared - served == set(), "declared in domain.yml but not served"
    assert served - declared == set(), "served but not declared in domain.yml"
