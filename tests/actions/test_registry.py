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


def test_every_action_that_reads_the_domain_is_sent_it(domain):
    """Both endpoint files enable Rasa's selective domain: the domain goes only to validate_*
    actions and to those marked ``send_domain: true``; any other action gets ``{}``. An action
    whose ``run`` reads the domain (``domain.get``, ``domain[...]``) must be marked."""
    import ast
    import inspect
    import textwrap

    import yaml

    from tests.support.stack import ROOT

    for path in ("endpoints.yml", "deploy/endpoints.prod.yml"):
        endpoint = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))["action_endpoint"]
        assert endpoint.get("enable_selective_domain") is True, path
    marked = {name for a in domain["actions"] if isinstance(a, dict) for name, options in a.items()
              if (options or {}).get("send_domain")}
    executor = ActionExecutor()
    executor.register_package("actions")
    readers = set()
    for name, run in executor.actions.items():
        action = getattr(run, "__self__", None)
        source = textwrap.dedent(inspect.getsource(type(action).run)) if action is not None else ""
        for node in ast.walk(ast.parse(source)) if source else ():
            if isinstance(node, (ast.Attribute, ast.Subscript)) and getattr(node.value, "id", None) == "domain":
                readers.add(name)
    assert "action_session_start" in readers  # session_config: carry the slots over or not
    assert {r for r in readers if not r.startswith("validate_")} <= marked


def test_no_action_reads_what_the_domain_sent_to_the_action_server_leaves_out():
    """The action server gets the domain without ``ACTION_DOMAIN_OMITS`` (the responses, which
    Rasa renders itself; connectors/speedups.py): no action module may look them up in it."""
    import ast

    from connectors.speedups import ACTION_DOMAIN_OMITS
    from tests.support.stack import ROOT

    assert ACTION_DOMAIN_OMITS == ("responses",)
    readers = []
    for path in sorted((ROOT / "actions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            keys = []
            if isinstance(node, ast.Subscript):
                keys = [node.slice]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                keys = node.args[:1]
            if any(isinstance(k, ast.Constant) and k.value in ACTION_DOMAIN_OMITS for k in keys):
                readers.append(f"{path.name}:{node.lineno}")
    assert readers == []
