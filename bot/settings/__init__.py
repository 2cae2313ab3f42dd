"""Configuration of each process, read from environment variables once when it starts.

- ``bot.settings.backoffice`` — the back office (``python -m bot``): ``load_settings()``
  gives a ``BackOfficeSettings`` (also known as ``Settings``).
- ``bot.settings.actions`` — the action server: ``action_settings()``.
- ``bot.settings.channels`` — the Rasa server's input channels (``connectors/``):
  ``channel_settings()``.
- ``bot.settings.common`` — what they share: reading a variable, and the production check
  that refuses development or too short secrets, in the same words for every process.

Nothing else reads the environment: each process hands its settings (or the files they name,
such as ``JURISDICTION_FILE`` and ``HOLIDAYS_FILE``) to the code that needs them.
"""

from bot.settings.backoffice import (
    DEFAULT_DATABASE_URL,
    DEFAULT_TRACKER_DB_URL,
    DEV_ADMIN_PASSWORD,
    DEV_ADMIN_USERNAME,
    DEV_ENCRYPTION_KEY,
    DEV_HMAC_KEY,
    DEV_RASA_TOKEN,
    DEV_SECRETS,
    DEV_SERVICE_TOKEN,
    DEV_SESSION_SECRET,
    BackOfficeSettings,
    load_settings,
    normalize_database_url,
)
from bot.settings.common import (
    ENVIRONMENTS,
    MIN_SECRET_CHARS,
    PACKAGE_DIR,
    PLACEHOLDER_MARK,
    RATE_LIMIT_BACKENDS,
    REPO_ROOT,
    VAR_DIR,
    Secret,
    SettingsError,
    display_url,
    refusal,
    secret_problems,
)

# The back office's settings under their first name.
Settings = BackOfficeSettings

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TRACKER_DB_URL",
    "DEV_ADMIN_PASSWORD",
    "DEV_ADMIN_USERNAME",
    "DEV_ENCRYPTION_KEY",
    "DEV_HMAC_KEY",
    "DEV_RASA_TOKEN",
    "DEV_SECRETS",
    "DEV_SERVICE_TOKEN",
    "DEV_SESSION_SECRET",
    "ENVIRONMENTS",
    "MIN_SECRET_CHARS",
    "PACKAGE_DIR",
    "PLACEHOLDER_MARK",
    "RATE_LIMIT_BACKENDS",
    "REPO_ROOT",
    "VAR_DIR",
    "BackOfficeSettings",
    "Secret",
    "Settings",
    "SettingsError",
    "display_url",
    "load_settings",
    "normalize_database_url",
    "refusal",
    "secret_problems",
]
