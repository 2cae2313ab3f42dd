"""Speed-ups of the Rasa server that change no behaviour, installed by the production launcher.

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate``, which first
validates the (large, constant) response schema against the JSON Schema meta-schema, on every
call: about 15 ms of CPU per remote action on this project's hardware, several times per
message, and the largest single item in a profile of a loaded Rasa worker. The schema is
constant, so it is checked once here and one validator is reused for the answers that pass.
An answer that fails goes through Rasa's own check, which raises its usual error.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Wrap ``RemoteAction._validate_action_result`` with a reused validator."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    rasa_check = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return rasa_check(self, result)  # raises Rasa's ValidationError with Rasa's message

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
