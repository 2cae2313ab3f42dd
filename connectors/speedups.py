"""Speed-ups of the Rasa server that change no behaviour, installed by the production launcher.

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate``, which first
validates the (large, constant) response schema against the JSON Schema meta-schema, on every
call: about 15 ms of CPU per remote action on this project's hardware, several times per
message, and the largest single item in a profile of a loaded Rasa worker. The schema is
constant, so it is checked once here and one validator is reused. An invalid answer of the
action server is still rejected with the same ``ValidationError`` and message.
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` with the cached-validator version."""
    global _installed
    if _installed:
        return
    import jsonschema
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = jsonschema.exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    _installed = True
