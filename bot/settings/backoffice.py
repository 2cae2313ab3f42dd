"""Settings of the back office (``python -m bot``), read from environment variables.

Every variable has a development default so that ``make run`` works on a fresh machine. The
secret ones (tokens, keys, the first staff password) have *fixed, documented* development
values, listed in ``DEV_SECRETS``; ``BackOfficeSettings.check_production()`` refuses to start
with any of them when ``APP_ENV=production`` (``bot.settings.common``).

Variables (default in brackets):

- ``APP_ENV`` [development] — ``development`` or ``production``.
- ``DATABASE_URL`` [sqlite+aiosqlite:///<repo>/var/backoffice.db] — the case store. A plain
  ``postgresql://`` (or ``postgres://``) URL is turned into ``postgresql+asyncpg://``, a plain
  ``sqlite://`` one into ``sqlite+aiosqlite://``.
- ``DATABASE_SCHEMA`` [empty] — PostgreSQL schema holding the tables (``search_path``);
  empty means the server's default.
- ``BACKOFFICE_HOST`` [127.0.0.1], ``BACKOFFICE_PORT`` [8080] — where ``python -m bot serve``
  listens.
- ``BACKOFFICE_URL`` [http://127.0.0.1:8080] — how the back office is reached (printed by
  ``python -m bot print-dev-settings``; the action server reads it too).
- ``BACKOFFICE_SERVICE_TOKEN`` [dev-service-token] — bearer token of the action server.
- ``BACKOFFICE_ENCRYPTION_KEYS`` [a fixed development Fernet key] — comma-separated Fernet
  keys; the first encrypts, all decrypt (key rotation: put the new key first).
- ``BACKOFFICE_HMAC_KEY`` [dev-hmac-key] — key of the blind index of ID numbers.
- ``BACKOFFICE_SESSION_SECRET`` [dev-session-secret] — signs staff console sessions.
- ``ADMIN_USERNAME`` [admin], ``ADMIN_PASSWORD`` [admin-dev-password] — first staff account.
- ``RATE_LIMIT_BACKEND`` [memory] — ``memory`` (one process) or ``redis``.
- ``REDIS_URL`` [redis://127.0.0.1:6379/0], ``REDIS_KEY_PREFIX`` [backoffice:] — prefix of
  every key this package writes to Redis (several deployments may share one server).
- ``STATUS_LOOKUP_MAX_FAILURES_PER_CASE`` [5], ``STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER``
  [10], ``STATUS_LOOKUP_WINDOW_SECONDS`` [900] — failed status lookups allowed per case number
  (from one requester) and per requester (all case numbers) in one fixed window before further
  lookups get HTTP 429. ``STATUS_LOOKUP_MAX_FAILURES_PER_CASE_TOTAL`` [50] — failed lookups of
  one case number from all requesters together (guessing spread over many addresses); a
  requester refused by its own limits adds nothing to it, so no single requester can lock the
  citizen out of their own case.
- ``RASA_URL`` [http://127.0.0.1:5005], ``RASA_TOKEN`` [dev-rasa-token].
- ``TRACKER_DB_URL`` [sqlite:///<repo>/var/tracker.db] — Rasa's tracker store (read only here).
- ``TRACKER_DB_SCHEMA`` [empty] — PostgreSQL schema of the tracker store's tables.
- ``TRACKER_ENCRYPTION_KEYS`` [a fixed development Fernet key] — comma-separated Fernet keys
  of the conversations in the tracker store (the same value as the Rasa server's; the first
  encrypts, all decrypt). The console decrypts transcripts with them.
- ``CONSOLE_SESSION_IDLE_MINUTES`` [30], ``CONSOLE_SESSION_MAX_HOURS`` [12] — a console login
  ends after this long without a request, and in any case after the maximum.
- ``LOGIN_MAX_FAILURES`` [5], ``LOGIN_LOCKOUT_MINUTES`` [15] — failed logins of one user name
  within the window lock it for the window (an administrator can unlock earlier).
- ``LOGIN_MAX_FAILURES_PER_IP`` [30] — failed logins from one client address (any user
  names) within ``LOGIN_LOCKOUT_MINUTES`` before that address gets HTTP 429.
- ``PASSWORD_CHANGE_MAX_FAILURES`` [5] — wrong current passwords one account may give on its
  password-change form within ``LOGIN_LOCKOUT_MINUTES`` before the form answers HTTP 429.
- ``TRUSTED_PROXIES`` [empty] — comma-separated addresses or networks (CIDR) of the reverse
  proxies in front of the back office. Only a request arriving from one of them has its client
  address taken from ``X-Forwarded-For`` (the right-most address not itself a trusted
  proxy); from anywhere else that header is ignored.
- ``HANDOFF_IDLE_MINUTES`` [30] — a conversation taken over by staff returns to the assistant
  after this long without a reply or action of the officer who took it.
- ``NOTIFY_RETRY_SECONDS`` [60], ``NOTIFY_MAX_ATTEMPTS`` [10] — retries of a citizen
  notification Rasa could not deliver (the delay doubles each time up to 1 hour).
- ``DUE_SOON_DAYS`` [3] — a deadline this many days away or closer is shown as due soon.
- ``MAX_BODY_BYTES`` [65536] — largest request body accepted.
- ``CHAT_SOCKET_URL`` [http://127.0.0.1:5005] — the Rasa server the citizen chat page at ``/``
  connects to over socket.io, as a citizen's browser reaches it (public URL in production);
  Rasa's ``--cors`` must allow the back office's origin. ``CHAT_SOCKET_PATH`` [/socket.io].
- ``JURISDICTION_FILE`` [bot/config/jurisdiction.yml], ``HOLIDAYS_FILE``
  [bot/config/holidays.yml] — the jurisdiction and the official holidays (a relative path is
  taken from the repository root).
- ``LOG_LEVEL`` [INFO].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings.common import (
    ENVIRONMENTS,
    HOLIDAYS_FILE,
    JURISDICTION_FILE,
    RATE_LIMIT_BACKENDS,
    VAR_DIR,
    ProcessSettings,
    Secret,
    SettingsError,
    environment,
    read_choice,
    read_http_url,
    read_int,
    read_log_level,
    read_fernet_keys,
    read_path,
    read_str,
)

# Development values of the secrets. Public on purpose: they only protect a developer's
# laptop, and production refuses to start while any of them is still in use.
DEV_SERVICE_TOKEN = "dev-service-token"
DEV_ENCRYPTION_KEY = "5YbykIK2Hj1vio8N7RQtpamKhEqLywCQjpwEeDdi4FQ="
DEV_HMAC_KEY = "dev-hmac-key"
DEV_SESSION_SECRET = "dev-session-secret"
DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "admin-dev-password"
DEV_RASA_TOKEN = "dev-rasa-token"
# Key of the conversations in Rasa's tracker store (connectors/tracker_store.py): its own key,
# so that the internet-facing Rasa server holds no key of the case store.
DEV_TRACKER_ENCRYPTION_KEY = "CWctlUsb5LZ8JJ_emL7Q_1aagEXP0u2Fh8NJj8h7w3w="

# Environment variable -> development value, for the production check and `print-dev-settings`.
DEV_SECRETS: dict[str, str] = {
    "BACKOFFICE_SERVICE_TOKEN": DEV_SERVICE_TOKEN,
    "BACKOFFICE_ENCRYPTION_KEYS": DEV_ENCRYPTION_KEY,
    "BACKOFFICE_HMAC_KEY": DEV_HMAC_KEY,
    "BACKOFFICE_SESSION_SECRET": DEV_SESSION_SECRET,
    "ADMIN_PASSWORD": DEV_ADMIN_PASSWORD,
    "RASA_TOKEN": DEV_RASA_TOKEN,
    "TRACKER_ENCRYPTION_KEYS": DEV_TRACKER_ENCRYPTION_KEY,
}

DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{VAR_DIR / 'backoffice.db'}"
DEFAULT_TRACKER_DB_URL = f"sqlite:///{VAR_DIR / 'tracker.db'}"


def normalize_database_url(url: str) -> str:
    """Turn plain driver-less URLs into the async drivers this package uses."""
    url = url.strip()
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url[len("postgresql+psycopg2://") :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


@dataclass(frozen=True)
class BackOfficeSettings(ProcessSettings):
    app_env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str = ""
    backoffice_host: str = "127.0.0.1"
    backoffice_port: int = 8080
    backoffice_url: str = "http://127.0.0.1:8080"
    service_token: str = field(default=DEV_SERVICE_TOKEN, repr=False)
    encryption_keys: tuple[str, ...] = field(default=(DEV_ENCRYPTION_KEY,), repr=False)
    hmac_key: str = field(default=DEV_HMAC_KEY, repr=False)
    session_secret: str = field(default=DEV_SESSION_SECRET, repr=False)
    admin_username: str = DEV_ADMIN_USERNAME
    admin_password: str = field(default=DEV_ADMIN_PASSWORD, repr=False)
    rate_limit_backend: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "backoffice:"
    status_max_failures_per_case: int = 5
    status_max_failures_per_requester: int = 10
    status_window_seconds: int = 900
    status_max_failures_per_case_total: int = 50
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = field(default=DEV_RASA_TOKEN, repr=False)
    tracker_db_url: str = DEFAULT_TRACKER_DB_URL
    tracker_db_schema: str = ""
    tracker_encryption_keys: tuple[str, ...] = field(
        default=(DEV_TRACKER_ENCRYPTION_KEY,), repr=False
    )
    console_session_idle_minutes: int = 30
    console_session_max_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_max_failures_per_ip: int = 30
    password_change_max_failures: int = 5
    trusted_proxies: tuple[str, ...] = ()
    handoff_idle_minutes: int = 30
    notify_retry_seconds: int = 60
    notify_max_attempts: int = 10
    due_soon_days: int = 3
    max_body_bytes: int = 65536
    chat_socket_url: str = "http://127.0.0.1:5005"
    chat_socket_path: str = "/socket.io"
    jurisdiction_file: Path | None = None  # None: bot/config/jurisdiction.yml
    holidays_file: Path | None = None  # None: bot/config/holidays.yml
    log_level: str = "INFO"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def secrets(self) -> list[Secret]:
        return [
            Secret("BACKOFFICE_SERVICE_TOKEN", (self.service_token,), DEV_SERVICE_TOKEN),
            # Fernet keys are checked when read; the development key may not even decrypt.
            Secret("BACKOFFICE_ENCRYPTION_KEYS", self.encryption_keys, DEV_ENCRYPTION_KEY, 0),
            Secret("BACKOFFICE_HMAC_KEY", (self.hmac_key,), DEV_HMAC_KEY),
            Secret("BACKOFFICE_SESSION_SECRET", (self.session_secret,), DEV_SESSION_SECRET),
            # The staff password follows the console's password rules (bot/store/users.py).
            Secret("ADMIN_PASSWORD", (self.admin_password,), DEV_ADMIN_PASSWORD, 0),
            Secret("RASA_TOKEN", (self.rasa_token,), DEV_RASA_TOKEN),
            Secret("TRACKER_ENCRYPTION_KEYS", self.tracker_encryption_keys,
                   DEV_TRACKER_ENCRYPTION_KEY, 0),
        ]

    def secrets_with_dev_defaults(self) -> list[str]:
        """Names of the variables whose value is still the development default."""
        return sorted(s.variable for s in self.secrets() if s.development in s.values)


def _fernet_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    from cryptography.fernet import Fernet

    raw = (env.get("BACKOFFICE_ENCRYPTION_KEYS") or "").strip()
    keys = tuple(k.strip() for k in raw.split(",") if k.strip()) or (DEV_ENCRYPTION_KEY,)
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SettingsError(
                f"BACKOFFICE_ENCRYPTION_KEYS: key {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return keys


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    import ipaddress

    raw = (env.get("TRUSTED_PROXIES") or "").strip()
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def load_settings(env: Mapping[str, str] | None = None) -> BackOfficeSettings:
    """Read the back office's settings from ``env`` (the process environment by default)."""
    from sqlalchemy.engine import make_url

    env = environment(env)
    database_url = normalize_database_url(read_str(env, "DATABASE_URL", DEFAULT_DATABASE_URL))
    try:
        make_url(database_url)
    except Exception:
        raise SettingsError("DATABASE_URL is not a valid database URL") from None
    return BackOfficeSettings(
        app_env=read_choice(env, "APP_ENV", "development", ENVIRONMENTS),
        database_url=database_url,
        database_schema=read_str(env, "DATABASE_SCHEMA", ""),
        backoffice_host=read_str(env, "BACKOFFICE_HOST", "127.0.0.1"),
        backoffice_port=read_int(env, "BACKOFFICE_PORT", 8080, minimum=1),
        backoffice_url=read_str(env, "BACKOFFICE_URL", "http://127.0.0.1:8080").rstrip("/"),
        service_token=read_str(env, "BACKOFFICE_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
        encryption_keys=_fernet_keys(env),
        hmac_key=read_str(env, "BACKOFFICE_HMAC_KEY", DEV_HMAC_KEY),
        session_secret=read_str(env, "BACKOFFICE_SESSION_SECRET", DEV_SESSION_SECRET),
        admin_username=read_str(env, "ADMIN_USERNAME", DEV_ADMIN_USERNAME),
        admin_password=read_str(env, "ADMIN_PASSWORD", DEV_ADMIN_PASSWORD),
        rate_limit_backend=read_choice(env, "RATE_LIMIT_BACKEND", "memory", RATE_LIMIT_BACKENDS),
        redis_url=read_str(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_key_prefix=read_str(env, "REDIS_KEY_PREFIX", "backoffice:"),
        status_max_failures_per_case=read_int(env, "STATUS_LOOKUP_MAX_FAILURES_PER_CASE", 5, 1),
        status_max_failures_per_requester=read_int(
            env, "STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER", 10, 1
        ),
        status_window_seconds=read_int(env, "STATUS_LOOKUP_WINDOW_SECONDS", 900, 1),
        status_max_failures_per_case_total=read_int(
            env, "STATUS_LOOKUP_MAX_FAILURES_PER_CASE_TOTAL", 50, 1
        ),
        rasa_url=read_str(env, "RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_token=read_str(env, "RASA_TOKEN", DEV_RASA_TOKEN),
        tracker_db_url=read_str(env, "TRACKER_DB_URL", DEFAULT_TRACKER_DB_URL),
        tracker_db_schema=read_str(env, "TRACKER_DB_SCHEMA", ""),
        tracker_encryption_keys=read_fernet_keys(
            env, "TRACKER_ENCRYPTION_KEYS", DEV_TRACKER_ENCRYPTION_KEY
        ),
        console_session_idle_minutes=read_int(env, "CONSOLE_SESSION_IDLE_MINUTES", 30, 1),
        console_session_max_hours=read_int(env, "CONSOLE_SESSION_MAX_HOURS", 12, 1),
        login_max_failures=read_int(env, "LOGIN_MAX_FAILURES", 5, 1),
        login_lockout_minutes=read_int(env, "LOGIN_LOCKOUT_MINUTES", 15, 1),
        login_max_failures_per_ip=read_int(env, "LOGIN_MAX_FAILURES_PER_IP", 30, 1),
        password_change_max_failures=read_int(env, "PASSWORD_CHANGE_MAX_FAILURES", 5, 1),
        trusted_proxies=_trusted_proxies(env),
        handoff_idle_minutes=read_int(env, "HANDOFF_IDLE_MINUTES", 30, 1),
        notify_retry_seconds=read_int(env, "NOTIFY_RETRY_SECONDS", 60, 1),
        notify_max_attempts=read_int(env, "NOTIFY_MAX_ATTEMPTS", 10, 1),
        due_soon_days=read_int(env, "DUE_SOON_DAYS", 3, 0),
        max_body_bytes=read_int(env, "MAX_BODY_BYTES", 65536, minimum=1024),
        chat_socket_url=read_http_url(env, "CHAT_SOCKET_URL", "http://127.0.0.1:5005"),
        chat_socket_path=read_str(env, "CHAT_SOCKET_PATH", "/socket.io"),
        jurisdiction_file=read_path(env, JURISDICTION_FILE),
        holidays_file=read_path(env, HOLIDAYS_FILE),
        log_level=read_log_level(env),
    )
