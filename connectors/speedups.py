"""Speed-ups of the Rasa server that change no answer, installed in both profiles.

Each replaces a piece of Rasa 3.6 that costs CPU on every message with one that gives the
same result (README "Measured speed"; tests/production/test_speedups.py compares them); the
one difference on the wire is the domain the action server gets, without the responses that
no action reads:

- **The check of the action server's answers.** Rasa checks every answer with
  ``jsonschema.validate``, which first validates the (large, constant) response schema
  against the meta-schema, and then tries each event of the answer against all 23 branches of
  the schema's ``oneOf``. The schema is checked once here; an event is checked against the
  branch of its own type (the branches are told apart by ``event``'s ``const``, so no other
  branch can match), the rest of the answer against the schema without the event branches.
  An answer that fails, or that this shortcut cannot judge, goes through Rasa's own check,
  which gives Rasa's verdict and raises its usual error.
- **Connections to the action server.** Rasa opens a new aiohttp session, and a new TCP
  connection, for every call of an endpoint. Here the sessions of one event loop (one Sanic
  worker) share a connector that keeps connections open for a short time, below the action
  server's keep-alive, so that a closed connection is not reused. The body (the whole
  tracker) is written by ujson, a dependency of Rasa, instead of ``json.dumps``.
- **The domain sent to the actions that read it** (the forms' validators, with every form
  turn, and ``action_session_start``) leaves out the responses: the texts that Rasa renders
  itself, 25 of the domain's 32 KB as JSON, which no action reads (``ACTION_DOMAIN_OMITS``;
  ``tests/actions/test_registry.py`` checks that none does). The action server parsed them
  with every form turn.

- **Each call to the action server is sent in one piece.** aiohttp 3.9 writes a request's
  headers to the socket at once and its body in a second write from another task, so the
  action server's worker woke up for the headers alone and again for the body, and each
  side made one more system call per call. Here a request's headers wait for the first
  part of the body (or its end, or a drain, such as the wait for ``100 Continue``) and go
  out with it: the same bytes in the same order (``joined_request_writes``; requests only,
  the responses of an aiohttp server in this process are written as before).

- **The graph runs.** Rasa runs its model graph (the NLU pipeline for each message, the
  policies for each prediction) through dask's scheduler, which works out the minimal graph
  and an execution order again on every run. Here each graph runner works them out once per
  set of targets and calls the same nodes, in an order dask could have chosen, with the same
  inputs and outputs.

- **Event classes by name.** ``Event.resolve_by_type`` lists every subclass of ``Event`` again
  for each event read from the tracker store or an action's answer; here each name is looked
  up that way once and the class Rasa found is remembered.
- **Whether the domain is empty.** Asked for every message; Rasa builds an empty domain and
  compares both as dicts. A domain with responses is not empty (``domain_is_empty``).
- **The dialogue history.** The policies' states and the applied events are worked out once
  per set of events of a tracker instead of once per policy and per call
  (connectors/history.py).
- **Garbage collection.** The objects of the loaded model are frozen out of the collector
  (``frozen_after_loading``), so that a full collection does not walk them again.

Both profiles run Rasa with them: the production launcher (``scripts/prod.py``) calls
``install``, and the development profile (``Procfile``, ``make run``) starts Rasa as
``python -m connectors.speedups run …``, which installs them and then runs Rasa's own
command line with the same arguments as ``rasa run …``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional


# Below Sanic's default keep-alive timeout (5 s) of the action server: the server never closes
# a connection this side still means to reuse.
KEEPALIVE_SECONDS = 2.0

# What of the domain the action server is not sent: the responses, rendered by Rasa itself.
ACTION_DOMAIN_OMITS = ("responses",)


def action_result_check() -> Callable[[dict[str, Any]], bool]:
    """A function telling whether an answer of the action server satisfies Rasa's response
    schema; ``False`` also where it cannot tell (Rasa's own check then decides)."""
    import copy

    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    whole = validator_class(schema)

    items = schema["properties"]["events"]["items"]
    branches = items["oneOf"]
    kinds = [branch.get("properties", {}).get("event", {}).get("const") for branch in branches]
    if None in kinds or len(set(kinds)) != len(kinds):  # not told apart by type: no shortcut
        return whole.is_valid
    common = {key: value for key, value in items.items() if key != "oneOf"}
    by_kind = {kind: validator_class({**common, "allOf": [branch]}) for kind, branch in zip(kinds, branches)}
    outer_schema = copy.deepcopy(schema)
    outer_schema["properties"]["events"].pop("items")
    outer = validator_class(outer_schema)

    def is_valid(result: dict[str, Any]) -> bool:
        if not outer.is_valid(result):
            return False
        events = result.get("events") if isinstance(result, dict) else None
        if not isinstance(events, list):
            return whole.is_valid(result)
        for event in events:
            kind = event.get("event") if isinstance(event, dict) else None
            check = by_kind.get(kind) if isinstance(kind, str) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    return is_valid


def install() -> None:
    """Install the speed-ups (see the module's docstring) in this process."""
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    is_valid = action_result_check()
    rasa_check = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if is_valid(result):
            return True
        return rasa_check(self, result)  # Rasa's verdict; raises Rasa's ValidationError

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]

    rasa_session = EndpointConfig.session

    def session(self: EndpointConfig) -> Any:
        """Rasa's session (its headers, authentication and timeout, as in
        ``EndpointConfig.session``) on the event loop's shared connector."""
        import aiohttp
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

        connector = shared_connector()
        if connector is None:
            return rasa_session(self)
        auth = None
        if self.basic_auth:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        return aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=connector,
            connector_owner=False,
            json_serialize=json_dumps,
        )

    EndpointConfig.session = session  # type: ignore[method-assign]

    joined_request_writes()

    RemoteAction._action_call_format = with_action_domain(RemoteAction._action_call_format)  # type: ignore[method-assign]

    from rasa.engine.runner.dask import DaskGraphRunner

    DaskGraphRunner.run = run_in_order  # type: ignore[method-assign]

    from rasa.shared.core.events import Event

    Event.resolve_by_type = staticmethod(event_class_by_type(Event.resolve_by_type))  # type: ignore[method-assign]

    from rasa.shared.core.domain import Domain

    Domain.is_empty = domain_is_empty(Domain.is_empty)  # type: ignore[method-assign]

    from connectors import history

    history.install()

    import rasa.core.run

    rasa.core.run.load_agent_on_start = frozen_after_loading(rasa.core.run.load_agent_on_start)


def joined_request_writes() -> None:
    """aiohttp's ``StreamWriter`` holding a request's headers until the first write of its
    body, its end or a drain, and then writing both at once (see the module's docstring).
    A response's headers (an aiohttp server: the status line begins with ``HTTP/``) are
    written at once, as aiohttp does."""
    from aiohttp import http_writer

    writer = http_writer.StreamWriter
    if getattr(writer, "_joins_request_writes", False):
        return
    write, drain = writer._write, writer.drain

    async def write_headers(self: Any, status_line: str, headers: Any) -> None:
        if self._on_headers_sent is not None:
            await self._on_headers_sent(headers)
        buf = http_writer._serialize_headers(status_line, headers)
        if status_line.startswith("HTTP/"):
            write(self, buf)
        else:
            self.__dict__["_held_headers"] = buf

    def _write(self: Any, chunk: bytes) -> None:
        held = self.__dict__.pop("_held_headers", None)
        write(self, held + chunk if held is not None else chunk)

    async def drain_held(self: Any) -> None:
        held = self.__dict__.pop("_held_headers", None)
        if held is not None:
            write(self, held)
        await drain(self)

    writer.write_headers = write_headers  # type: ignore[method-assign]
    writer._write = _write  # type: ignore[method-assign]
    writer.drain = drain_held  # type: ignore[method-assign]
    writer._joins_request_writes = True  # type: ignore[attr-defined]


def action_domain(domain: Any) -> dict[str, Any]:
    """The domain as an action that reads it gets it: ``domain.as_dict()`` without the keys of
    ``ACTION_DOMAIN_OMITS``, worked out once per domain."""
    whole = domain.as_dict()
    cached = domain.__dict__.get("_action_domain")
    if cached is None or cached[0] is not whole:
        cached = (whole, {key: value for key, value in whole.items() if key not in ACTION_DOMAIN_OMITS})
        domain.__dict__["_action_domain"] = cached
    return cached[1]


def with_action_domain(rasa_format: Callable) -> Callable:
    """``RemoteAction._action_call_format`` (the body of a call to the action server) with the
    domain, where Rasa sends it, as ``action_domain`` gives it."""

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        result = rasa_format(self, tracker, domain)
        if "domain" in result:
            result["domain"] = action_domain(domain)
        return result

    _action_call_format.__doc__ = rasa_format.__doc__
    return _action_call_format


def domain_is_empty(rasa_is_empty: Callable) -> Callable:
    """``Domain.is_empty``, which the processor asks for every message: Rasa compares the
    whole domain as a dict with a new empty domain as a dict. A domain with responses (an
    empty one has none, and ``as_dict`` holds them as they are) is not empty; any other
    domain is compared by Rasa."""

    def is_empty(self: Any) -> bool:
        if self.responses:
            return False
        return rasa_is_empty(self)

    is_empty.__doc__ = rasa_is_empty.__doc__
    return is_empty


def event_class_by_type(rasa_resolve: Callable) -> Callable:
    """``Event.resolve_by_type`` remembering each class it found: Rasa lists every subclass of
    ``Event`` again for each event it reads from the tracker store or the action server."""
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Optional[Any] = None) -> Optional[Any]:
        cls = found.get(type_name)
        if cls is None:
            cls = rasa_resolve(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    resolve_by_type.__doc__ = rasa_resolve.__doc__
    return resolve_by_type


def run_in_order(self: Any, inputs: Optional[dict[str, Any]] = None,
                 targets: Optional[list[str]] = None) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: the nodes the targets need, each after the nodes
    it needs, the order worked out once per set of targets."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    plans = self.__dict__.setdefault("_plans_in_order", {})
    plan = plans.get(tuple(run_targets))
    if plan is None:
        plan = plans[tuple(run_targets)] = execution_order(self._graph_schema.minimal_graph_schema(run_targets))
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in plan.names:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        results[name] = (name, value)  # as dask returns an input: the pair itself
    try:
        for name, needs in plan.steps:
            if name not in results:
                results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
        # each result is a (node name, output) pair: the dict of the pairs, as Rasa builds it
        return dict(results[target] for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


@dataclass
class Plan:
    steps: list[tuple[str, tuple[str, ...]]]  # (node, the nodes or inputs it needs, in order)
    names: frozenset[str]


def execution_order(schema: Any) -> Plan:
    """The nodes of ``schema``, each after everything it needs (depth first, in the order of
    the schema and of each node's needs)."""
    done: set[str] = set()
    steps: list[tuple[str, tuple[str, ...]]] = []

    def visit(name: str) -> None:
        if name in done or name not in schema.nodes:
            return  # done already, or an input
        done.add(name)
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            visit(need)
        steps.append((name, needs))

    for name in schema.nodes:
        visit(name)
    return Plan(steps, frozenset(schema.nodes))


def json_dumps(value: Any) -> str:
    """The body of a call (the whole tracker, for an action): ujson (a dependency of Rasa),
    several times faster than ``json.dumps``, UTF-8 instead of ``\\u`` escapes; the same
    JSON value. What ujson refuses (NaN, an unknown type) goes to ``json.dumps`` as before."""
    import ujson

    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(value)


_CONNECTORS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()


def frozen_after_loading(rasa_load: Callable) -> Callable:
    """Rasa's ``load_agent_on_start`` (each Sanic worker loads its model when it starts),
    followed by ``gc.freeze()``: the half a million objects of the loaded model (the domain,
    the rules, the NLU's vocabularies, jieba's dictionary) are kept out of every later garbage
    collection. Without it each full collection walks them all again and stops the worker,
    with every message it holds: 0.5-1.3 s under load on a 2-core machine (README "Measured
    speed")."""

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await rasa_load(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    return load_agent_on_start


def shared_connector() -> Any:
    """The keep-alive connector of the running event loop (``None`` outside one)."""
    import aiohttp

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    connector = _CONNECTORS.get(loop)
    if connector is None or connector.closed:
        connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS, limit=100)
        _CONNECTORS[loop] = connector
    return connector


def main() -> None:
    """``python -m connectors.speedups <rasa arguments>``: Rasa's command line, sped up."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
