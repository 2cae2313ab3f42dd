"""What the production launcher (``scripts/prod.py``) does besides checking and starting
processes: the profile's environment and env files, waiting for PostgreSQL and Redis,
creating the databases, migrating under a lock, and the variables Rasa's production
endpoints read.

It runs in both Python environments (``.venv/rasa`` with SQLAlchemy 1.4, ``.venv/app`` with
SQLAlchemy 2) and every container image, so it imports only what all of them have: psycopg2,
redis, SQLAlchemy's URL parser and ``bot.settings``. It reads no environment variable itself:
the launcher hands it the profile's environment.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from bot.settings.common import REPO_ROOT

MIGRATION_LOCK_ID = 7_240_513  # pg_advisory_lock key: one migration at a time across replicas

log = logging.getLogger("prod")


class ProfileError(Exception):
    """The profile cannot start; the message is one line naming every problem."""


def is_postgres(url: str) -> bool:
    return url.strip().split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


# --- each process gets only its own secrets ------------------------------------------------------

# A variable holds a secret when it is a store URL (it carries the store's password) or its name
# says so; the WeChat account's variables all belong to the Rasa server. A process keeps the
# secrets its own settings list (``secrets()`` of its class in bot/settings/) and those below;
# every other secret is removed before it starts (fail closed: a new secret reaches no process
# until its settings name it).
STORE_URLS = frozenset({"DATABASE_URL", "TRACKER_DB_URL", "REDIS_URL", "LOCK_STORE_URL", "WECHAT_REDIS_URL"})
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_KEY", "_KEYS", "_PASSWORD")
SECRET_PREFIXES = ("WECHAT_",)
# Besides their settings' secrets: the stores each process connects to, the action server's
# secret that Rasa sends (deploy/endpoints.prod.yml), the tracker store's own key. Rasa, the
# internet-facing process, holds no key and no credentials of the case store.
EXTRA_SECRETS: dict[str, frozenset[str]] = {
    "rasa": frozenset({"TRACKER_DB_URL", "REDIS_URL", "LOCK_STORE_URL", "ACTION_ENDPOINT_TOKEN",
                       "TRACKER_ENCRYPTION_KEYS"}),
    "actions": frozenset(),
    "backoffice": frozenset({"DATABASE_URL", "TRACKER_DB_URL", "REDIS_URL", "TRACKER_ENCRYPTION_KEYS"}),
}


def is_secret_variable(name: str) -> bool:
    return name in STORE_URLS or name.endswith(SECRET_SUFFIXES) or name.startswith(SECRET_PREFIXES)


def own_secrets(role: str, env: Mapping[str, str]) -> frozenset[str]:
    """The secret variables process ``role`` (rasa, actions, backoffice) may hold."""
    if role == "rasa":
        from bot.settings.channels import load_channel_settings as load
    elif role == "actions":
        from bot.settings.actions import load_action_settings as load
    else:
        from bot.settings.backoffice import load_settings as load
    return frozenset(s.variable for s in load(env).secrets()) | EXTRA_SECRETS[role]


def process_environ(role: str, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the secrets of the other processes: what ``role`` is started with, so
    that one shared env file never hands a process a key it does not use."""
    allowed = own_secrets(role, env)
    return {
        key: value
        for key, value in env.items()
        if (role == "rasa" if key.startswith(SECRET_PREFIXES) else not is_secret_variable(key) or key in allowed)
    }


# --- the profile's environment -----------------------------------------------------------------

# Where the profile differs from development, and the launcher's own variables (every one
# can be overridden by the environment).
DEFAULTS: dict[str, str] = {
    "APP_ENV": "production",
    "RATE_LIMIT_BACKEND": "redis",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "RASA_HOST": "127.0.0.1",
    "RASA_PORT": "5005",
    "SANIC_WORKERS": "2",
    "RASA_SOCKETIO_PORT": "5006",
    "ACTION_SERVER_HOST": "127.0.0.1",
    "ACTION_SERVER_PORT": "5055",
    "ACTION_SERVER_SANIC_WORKERS": "2",
    "BACKOFFICE_HOST": "127.0.0.1",
    "BACKOFFICE_PORT": "8080",
    "LOCK_STORE_KEY_PREFIX": "xinfang",
    "BACKOFFICE_MIGRATE_ON_START": "true",
    "LOG_LEVEL": "INFO",
}


def profile_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the profile: ``environ``, the file it names in PROD_ENV_FILE (its
    variables do not override ``environ``), the defaults above and the derived addresses."""
    env = dict(environ)
    env_file = env.get("PROD_ENV_FILE", "").strip()
    if env_file:
        path = Path(env_file)
        if not path.is_absolute():
            path = REPO_ROOT / path
        if not path.is_file():
            raise ProfileError(f"PROD_ENV_FILE={env_file} does not exist")
        load_env_file(path, env)
    for key, value in DEFAULTS.items():
        if not env.get(key, "").strip():
            env[key] = value
    derived = {
        "BACKOFFICE_URL": f"http://127.0.0.1:{env['BACKOFFICE_PORT']}",
        # The back office talks to the socket.io server: messages it sends to a conversation
        # (staff replies, notifications) reach a web chat only from the process holding it.
        "RASA_URL": f"http://127.0.0.1:{env['RASA_SOCKETIO_PORT']}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}/webhook",
        "LOCK_STORE_URL": env["REDIS_URL"],
    }
    for key, value in derived.items():
        if not env.get(key, "").strip():
            env[key] = value
    # Quiet, telemetry-free, and importable from anywhere.
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env



def load_env_file(path: Path, environ: dict[str, str]) -> int:
    """Read ``KEY=VALUE`` lines into ``environ`` without overriding what is set."""
    count = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ProfileError(f"{path}: not a KEY=VALUE line: {key or raw[:20]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key not in environ:
            environ[key] = value
            count += 1
    return count


def new_env_file(path: Path) -> None:
    """An env file for this machine: fresh secrets, the local PostgreSQL and Redis."""
    token = lambda: secrets.token_urlsafe(32)  # noqa: E731
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    lines = [
        "# Production profile on this machine, written by `scripts/prod.py env`.",
        "# Secrets: keep this file private (mode 600) and back up BACKOFFICE_ENCRYPTION_KEYS and",
        "# BACKOFFICE_HMAC_KEY: without them the stored ID and phone numbers cannot be read.",
        "APP_ENV=production",
        "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/xinfang",
        "TRACKER_DB_URL=postgresql://postgres@127.0.0.1:5432/xinfang_tracker",
        "REDIS_URL=redis://127.0.0.1:6379/0",
        "REDIS_KEY_PREFIX=xinfang:",
        "LOCK_STORE_KEY_PREFIX=xinfang",
        "RATE_LIMIT_BACKEND=redis",
        f"BACKOFFICE_SERVICE_TOKEN={token()}",
        f"BACKOFFICE_ENCRYPTION_KEYS={fernet_key}",
        f"BACKOFFICE_HMAC_KEY={token()}",
        f"BACKOFFICE_SESSION_SECRET={token()}",
        "ADMIN_USERNAME=admin",
        f"ADMIN_PASSWORD={secrets.token_urlsafe(18)}",
        f"RASA_TOKEN={token()}",
        f"ACTION_ENDPOINT_TOKEN={token()}",
        f"REST_CHANNEL_TOKEN={token()}",
        f"WEBCHAT_SESSION_SECRET={token()}",
        f"TRACKER_ENCRYPTION_KEYS={base64.urlsafe_b64encode(os.urandom(32)).decode('ascii')}",
        "SANIC_WORKERS=2",
        "ACTION_SERVER_SANIC_WORKERS=2",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


# --- services ---------------------------------------------------------------------------------


class Target:
    """A service the profile waits for: PostgreSQL or Redis, named for the log."""

    def __init__(self, label: str, url: str):
        self.label = label
        self.url = url

    @property
    def where(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or ''}{parts.path}"

    def probe(self) -> None:
        raise NotImplementedError


def pg_params(url: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    params: dict[str, object] = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "dbname": parsed.database or "postgres",
        "user": parsed.username or "postgres",
        "connect_timeout": 3,
    }
    if parsed.password:
        params["password"] = str(parsed.password)
    params.update({k: v for k, v in parsed.query.items() if k in ("sslmode", "sslrootcert")})
    return params


class PostgresTarget(Target):
    def probe(self) -> None:
        import psycopg2

        with psycopg2.connect(**pg_params(self.url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.close()


class RedisTarget(Target):
    def probe(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the first line of a driver's message."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__


def wait_for(
    targets: Iterable[Target],
    *,
    first_delay: float = 1.0,
    max_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Retry each target until it answers (forever: an orchestrator restarts nothing)."""
    for target in targets:
        delay, attempt = first_delay, 0
        while True:
            attempt += 1
            try:
                target.probe()
            except Exception as exc:
                log.warning(
                    "waiting for %s at %s: not reachable (%s), retrying in %gs",
                    target.label,
                    target.where,
                    _reason(exc),
                    delay,
                )
                sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            if attempt > 1:
                log.info("%s at %s reachable after %d attempts", target.label, target.where, attempt)
            break


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + dbname).geturl()


def create_databases(env: Mapping[str, str]) -> None:
    """Create the case and tracker databases when missing (a local convenience)."""
    import psycopg2
    import psycopg2.errors
    from psycopg2 import sql

    for name in ("DATABASE_URL", "TRACKER_DB_URL"):
        params = pg_params(env[name])
        dbname = str(params["dbname"])
        wait_for([PostgresTarget("PostgreSQL server", _with_db(env[name], "postgres"))])
        conn = psycopg2.connect(**{**params, "dbname": "postgres"})
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
                if cur.fetchone() is None:
                    try:
                        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                        # Owned by the URL's role; no other role may connect (the case store's
                        # and the tracker store's roles cannot read each other's database).
                        cur.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC")
                                    .format(sql.Identifier(dbname)))
                    except psycopg2.errors.InsufficientPrivilege:
                        log.warning("database %s is missing and may not be created by this "
                                    "user: ask the database administrator", dbname)
                    else:
                        log.info("created database %s", dbname)
        finally:
            conn.close()


def ensure_tracker_schema(env: Mapping[str, str]) -> None:
    """Rasa needs TRACKER_DB_SCHEMA to exist (POSTGRESQL_SCHEMA); create it if allowed."""
    schema = env.get("TRACKER_DB_SCHEMA", "").strip()
    if not schema:
        return
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(**pg_params(env["TRACKER_DB_URL"]))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    finally:
        conn.close()


def migrate(env: Mapping[str, str]) -> None:
    """``python -m bot migrate`` under an advisory lock, so replicas never migrate at once."""
    import psycopg2

    wait_for([PostgresTarget("PostgreSQL (case store)", env["DATABASE_URL"])])
    conn = psycopg2.connect(**pg_params(env["DATABASE_URL"]))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "bot", "migrate"], cwd=REPO_ROOT, env=dict(env)
                )
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    finally:
        conn.close()
    if result.returncode != 0:
        raise ProfileError(f"migration failed (exit {result.returncode})")


def lock_store_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables deploy/endpoints.prod.yml reads, from TRACKER_DB_URL and LOCK_STORE_URL."""
    from sqlalchemy.engine import make_url

    tracker = make_url(env["TRACKER_DB_URL"])
    lock = urlsplit(env["LOCK_STORE_URL"])
    values = {
        "TRACKER_DB_HOST": tracker.host or "127.0.0.1",
        "TRACKER_DB_PORT": str(tracker.port or 5432),
        "TRACKER_DB_NAME": tracker.database or "",
        "TRACKER_DB_USER": tracker.username or "postgres",
        "TRACKER_DB_PASSWORD": str(tracker.password or ""),
        "LOCK_STORE_HOST": lock.hostname or "127.0.0.1",
        "LOCK_STORE_PORT": str(lock.port or 6379),
        "LOCK_STORE_DB": (lock.path or "/0").lstrip("/") or "0",
        "LOCK_STORE_PASSWORD": unquote(lock.password or ""),
    }
    if env.get("TRACKER_DB_SCHEMA", "").strip():
        values["POSTGRESQL_SCHEMA"] = env["TRACKER_DB_SCHEMA"].strip()
    return values
