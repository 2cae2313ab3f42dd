"""Settings of the action server (``python -m rasa_sdk --actions actions``).

Loaded once when the action server loads the ``actions`` package (``action_settings()``);
tests replace or forget them with ``set_action_settings()``.

Variables (default in brackets):

- ``APP_ENV`` [development] — ``development`` or ``production``.
- ``BACKOFFICE_URL`` [http://127.0.0.1:8080] — where the back office's JSON API is.
- ``BACKOFFICE_SERVICE_TOKEN`` [dev-service-token] — the bearer token it expects; refused in
  production while it is the development value or shorter than 16 characters.
- ``ACTION_ENDPOINT_TOKEN`` [dev-action-endpoint-token] — the shared secret Rasa sends with
  every call (``Authorization: Bearer``; deploy/endpoints.prod.yml, endpoints.yml); calls to
  ``/webhook`` and ``/actions`` without it are refused. Refused in production like the token above.
- ``ACTION_SERVER_HOST`` [127.0.0.1], ``ACTION_SERVER_PORT`` [5055],
  ``ACTION_SERVER_SANIC_WORKERS`` [1] — where and with how many Sanic workers it runs (the
  launchers pass them on to rasa-sdk).
- ``JURISDICTION_FILE``, ``HOLIDAYS_FILE`` — as for the back office (``bot.settings.backoffice``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings.backoffice import DEV_SERVICE_TOKEN
from bot.settings.common import (
    ENVIRONMENTS,
    HOLIDAYS_FILE,
    JURISDICTION_FILE,
    ProcessSettings,
    Secret,
    environment,
    read_choice,
    read_http_url,
    read_int,
    read_path,
    read_str,
)

# Public on purpose: the development endpoints (endpoints.yml) send it; refused in production.
DEV_ACTION_ENDPOINT_TOKEN = "dev-action-endpoint-token"


@dataclass(frozen=True)
class ActionSettings(ProcessSettings):
    app_env: str = "development"
    backoffice_url: str = "http://127.0.0.1:8080"
    service_token: str = field(default=DEV_SERVICE_TOKEN, repr=False)
    endpoint_token: str = field(default=DEV_ACTION_ENDPOINT_TOKEN, repr=False)
    host: str = "127.0.0.1"
    port: int = 5055
    workers: int = 1
    jurisdiction_file: Path | None = None
    holidays_file: Path | None = None

    def secrets(self) -> list[Secret]:
        return [
            Secret("BACKOFFICE_SERVICE_TOKEN", (self.service_token,), DEV_SERVICE_TOKEN),
            Secret("ACTION_ENDPOINT_TOKEN", (self.endpoint_token,), DEV_ACTION_ENDPOINT_TOKEN),
        ]


def load_action_settings(env: Mapping[str, str] | None = None) -> ActionSettings:
    """Read the action server's settings from ``env`` (the process environment by default)."""
    env = environment(env)
    return ActionSettings(
        app_env=read_choice(env, "APP_ENV", "development", ENVIRONMENTS),
        backoffice_url=read_http_url(env, "BACKOFFICE_URL", "http://127.0.0.1:8080"),
        service_token=read_str(env, "BACKOFFICE_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
        endpoint_token=read_str(env, "ACTION_ENDPOINT_TOKEN", DEV_ACTION_ENDPOINT_TOKEN),
        host=read_str(env, "ACTION_SERVER_HOST", "127.0.0.1"),
        port=read_int(env, "ACTION_SERVER_PORT", 5055, minimum=1),
        workers=read_int(env, "ACTION_SERVER_SANIC_WORKERS", 1, minimum=1),
        jurisdiction_file=read_path(env, JURISDICTION_FILE),
        holidays_file=read_path(env, HOLIDAYS_FILE),
    )


_current: ActionSettings | None = None


def action_settings() -> ActionSettings:
    """This process's action server settings, read on first use and kept."""
    global _current
    if _current is None:
        _current = load_action_settings()
    return _current


def set_action_settings(settings: ActionSettings | None) -> None:
    """Use ``settings`` from now on (None: read the environment again on next use)."""
    global _current
    _current = settings
