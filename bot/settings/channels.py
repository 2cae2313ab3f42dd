"""Settings of the Rasa server's own code: the input channels in ``connectors/``.

Loaded once when the Rasa server loads the ``connectors`` package (``channel_settings()``);
tests replace or forget them with ``set_channel_settings()``. Only what the Rasa environment
has is imported here (no cryptography, no SQLAlchemy 2).

Variables (default in brackets):

- ``APP_ENV`` [development] — ``development`` or ``production``.
- ``CHANNEL_MAX_MESSAGE_CHARS`` [2000] — longest chat message the rate-limited input channels
  of the production profile (``connectors/ratelimit.py``) pass on to the assistant.
- ``CHANNEL_RATE_LIMIT_MESSAGES`` [30], ``CHANNEL_RATE_LIMIT_WINDOW_SECONDS`` [60] — messages
  one sender may send in one fixed window on those channels (shared through Redis by every
  Rasa worker and replica when ``RATE_LIMIT_BACKEND=redis``).
- ``RATE_LIMIT_BACKEND`` [memory], ``REDIS_URL`` [redis://127.0.0.1:6379/0],
  ``REDIS_KEY_PREFIX`` [backoffice:] — where those counters live (keys ``<prefix>ch:…``).
- ``ACTION_ENDPOINT_TOKEN`` [dev-action-endpoint-token] — the action server's shared secret,
  which Rasa sends with every call (deploy/endpoints.prod.yml); the same rule as the action
  server's (``bot.settings.actions``).
- ``RASA_TOKEN`` [dev-rasa-token], ``RASA_JWT_SECRET`` [empty] — the Rasa HTTP API's token
  and optional JWT secret; refused in production while the development value or shorter
  than 16 characters.
- ``WECHAT_TOKEN``, ``WECHAT_APP_ID``, ``WECHAT_APP_SECRET``, ``WECHAT_ENCODING_AES_KEY``,
  ``WECHAT_API_BASE_URL``, ``WECHAT_PRIVACY_URL``, ``WECHAT_REDIS_URL``,
  ``WECHAT_REPLY_TIMEOUT_SECONDS`` [unset] — the WeChat channel's values; a variable that is
  set wins over the channel's entry in the credentials file (``connectors/wechat.py``).
- ``REST_CHANNEL_TOKEN`` [dev-rest-channel-token] — bearer token the REST channel of the
  production profile requires (``Authorization: Bearer …``); refused in production while the
  development value or shorter than 16 characters. Development's REST channel needs none.
- ``WEBCHAT_SESSION_SECRET`` [dev-webchat-session-secret] — HMAC key that signs the web chat's
  session ids (``bot/rules/conversation_ids.py``); refused in production like the token.
  Changing it starts a new conversation in every open chat page.
- ``TRACKER_ENCRYPTION_KEYS`` [a fixed development Fernet key] — comma-separated Fernet keys
  that encrypt every event of the tracker store (``connectors/tracker_store.py``); the first
  encrypts, all decrypt (rotation: put the new key first). Not the case store's keys; refused
  in production while the development key is among them.
- ``TRACKER_CACHE_SIZE`` [256] — conversations whose tracker each Rasa process keeps in
  memory between messages (``connectors/tracker_store.py``); 0 keeps none.
- ``TRACKER_CACHE_CHECK`` [0] — ``1``: compare every kept tracker with the stored one and log
  an error on a difference (the test suite sets it; it costs a full read per message).
- ``JURISDICTION_FILE`` — as for the back office (``bot.settings.backoffice``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from bot.settings.actions import DEV_ACTION_ENDPOINT_TOKEN
from bot.settings.backoffice import DEV_RASA_TOKEN, DEV_TRACKER_ENCRYPTION_KEY
from bot.settings.common import (
    ENVIRONMENTS,
    JURISDICTION_FILE,
    RATE_LIMIT_BACKENDS,
    ProcessSettings,
    Secret,
    environment,
    read_choice,
    read_float,
    read_int,
    read_fernet_keys,
    read_path,
    read_str,
)

# The WeChat channel's credentials keys -> the environment variables that override them.
WECHAT_VARIABLES = {
    "token": "WECHAT_TOKEN",
    "app_id": "WECHAT_APP_ID",
    "app_secret": "WECHAT_APP_SECRET",
    "encoding_aes_key": "WECHAT_ENCODING_AES_KEY",
    "api_base_url": "WECHAT_API_BASE_URL",
    "privacy_url": "WECHAT_PRIVACY_URL",
    "redis_url": "WECHAT_REDIS_URL",
    "reply_timeout": "WECHAT_REPLY_TIMEOUT_SECONDS",
}
# Development values of the WeChat account (credentials.yml): public on purpose, obviously
# not an account, refused in production.
WECHAT_DEV_VALUES = {
    "token": "devwechattoken",
    "app_id": "wx0000000000000000",
    "app_secret": "dev-wechat-app-secret-not-real",
    "encoding_aes_key": "DevelopmentOnlyNotARealWeChatAccountKey0000",
}
DEV_REST_CHANNEL_TOKEN = "dev-rest-channel-token"
DEV_WEBCHAT_SESSION_SECRET = "dev-webchat-session-secret"


def wechat_secrets(values: Mapping[str, Any]) -> list[Secret]:
    """The WeChat account's values as secrets (their formats are WeChat's: no minimum)."""
    return [
        Secret(WECHAT_VARIABLES[key], (str(values[key]),) if values.get(key) else (), dev, 0)
        for key, dev in WECHAT_DEV_VALUES.items()
    ]


@dataclass(frozen=True)
class WeChatSettings:
    """The WeChat variables that are set; None leaves the value to the credentials file."""

    token: Optional[str] = None
    app_id: Optional[str] = None
    app_secret: Optional[str] = field(default=None, repr=False)
    encoding_aes_key: Optional[str] = field(default=None, repr=False)
    api_base_url: Optional[str] = None
    privacy_url: Optional[str] = None
    redis_url: Optional[str] = None
    reply_timeout: Optional[float] = None

    def overrides(self) -> dict[str, Any]:
        """``{credentials key: value}`` of the variables that are set."""
        found = {f.name: getattr(self, f.name) for f in fields(self)}
        return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class ChannelSettings(ProcessSettings):
    app_env: str = "development"
    max_message_chars: int = 2000
    rate_limit_messages: int = 30
    rate_limit_window_seconds: int = 60
    rate_limit_backend: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "backoffice:"
    rasa_token: str = field(default=DEV_RASA_TOKEN, repr=False)
    rasa_jwt_secret: str = field(default="", repr=False)
    wechat: WeChatSettings = field(default_factory=WeChatSettings)
    jurisdiction_file: Optional[Path] = None
    tracker_encryption_keys: tuple[str, ...] = field(
        default=(DEV_TRACKER_ENCRYPTION_KEY,), repr=False
    )
    rest_channel_token: str = field(default=DEV_REST_CHANNEL_TOKEN, repr=False)
    webchat_session_secret: str = field(default=DEV_WEBCHAT_SESSION_SECRET, repr=False)
    action_endpoint_token: str = field(default=DEV_ACTION_ENDPOINT_TOKEN, repr=False)
    tracker_cache_size: int = 256
    tracker_cache_check: bool = False

    def secrets(self) -> list[Secret]:
        jwt = (self.rasa_jwt_secret,) if self.rasa_jwt_secret else ()
        return [
            Secret("RASA_TOKEN", (self.rasa_token,), DEV_RASA_TOKEN),
            Secret("RASA_JWT_SECRET", jwt),
            Secret("REST_CHANNEL_TOKEN", (self.rest_channel_token,), DEV_REST_CHANNEL_TOKEN),
            Secret("WEBCHAT_SESSION_SECRET", (self.webchat_session_secret,), DEV_WEBCHAT_SESSION_SECRET),
            # Fernet keys: their format is checked when read.
            Secret("TRACKER_ENCRYPTION_KEYS", self.tracker_encryption_keys,
                   DEV_TRACKER_ENCRYPTION_KEY, 0),
            *wechat_secrets(self.wechat.overrides()),
            Secret("ACTION_ENDPOINT_TOKEN", (self.action_endpoint_token,), DEV_ACTION_ENDPOINT_TOKEN),
        ]


def _wechat(env: Mapping[str, str]) -> WeChatSettings:
    values: dict[str, Any] = {}
    for key, variable in WECHAT_VARIABLES.items():
        if key == "reply_timeout":
            values[key] = read_float(env, variable)
        else:
            values[key] = (env.get(variable) or "").strip() or None
    return WeChatSettings(**values)


def load_channel_settings(env: Mapping[str, str] | None = None) -> ChannelSettings:
    """Read the channels' settings from ``env`` (the process environment by default)."""
    env = environment(env)
    return ChannelSettings(
        app_env=read_choice(env, "APP_ENV", "development", ENVIRONMENTS),
        max_message_chars=read_int(env, "CHANNEL_MAX_MESSAGE_CHARS", 2000, minimum=1),
        rate_limit_messages=read_int(env, "CHANNEL_RATE_LIMIT_MESSAGES", 30, minimum=1),
        rate_limit_window_seconds=read_int(env, "CHANNEL_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1),
        rate_limit_backend=read_choice(env, "RATE_LIMIT_BACKEND", "memory", RATE_LIMIT_BACKENDS),
        redis_url=read_str(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_key_prefix=read_str(env, "REDIS_KEY_PREFIX", "backoffice:"),
        rasa_token=read_str(env, "RASA_TOKEN", DEV_RASA_TOKEN),
        rasa_jwt_secret=read_str(env, "RASA_JWT_SECRET", ""),
        action_endpoint_token=read_str(env, "ACTION_ENDPOINT_TOKEN", DEV_ACTION_ENDPOINT_TOKEN),
        wechat=_wechat(env),
        jurisdiction_file=read_path(env, JURISDICTION_FILE),
        tracker_encryption_keys=read_fernet_keys(
            env, "TRACKER_ENCRYPTION_KEYS", DEV_TRACKER_ENCRYPTION_KEY
        ),
        rest_channel_token=read_str(env, "REST_CHANNEL_TOKEN", DEV_REST_CHANNEL_TOKEN),
        webchat_session_secret=read_str(env, "WEBCHAT_SESSION_SECRET", DEV_WEBCHAT_SESSION_SECRET),
        tracker_cache_size=read_int(env, "TRACKER_CACHE_SIZE", 256, minimum=0),
        tracker_cache_check=read_choice(env, "TRACKER_CACHE_CHECK", "0", ("0", "1")) == "1",
    )


_current: Optional[ChannelSettings] = None


def channel_settings() -> ChannelSettings:
    """This process's channel settings, read on first use and kept."""
    global _current
    if _current is None:
        _current = load_channel_settings()
    return _current


def set_channel_settings(settings: Optional[ChannelSettings]) -> None:
    """Use ``settings`` from now on (None: read the environment again on next use)."""
    global _current
    _current = settings
