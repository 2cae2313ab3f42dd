#!/usr/bin/env python3
"""Launcher of the production profile: one command per process, and the checks before them.

    python scripts/prod.py env [--out FILE] [--if-missing]  write an env file with new secrets
    python scripts/prod.py check [--role ROLE]              refuse development secrets / SQLite
    python scripts/prod.py createdb                         create the PostgreSQL databases if missing
    python scripts/prod.py wait [--role ROLE]               wait until PostgreSQL and Redis answer
    python scripts/prod.py migrate                          wait, then migrate the case store
    python scripts/prod.py rasa | actions | backoffice      check, wait, then run that process
    python scripts/prod.py rasa-socketio                    the single-worker Rasa serving socket.io

``make run-prod`` (``Procfile.prod``), the container images (``deploy/Dockerfile.*``) and the
tests of the profile (``tests/production``) all start the processes through this file, so
what is tested is what runs. It works in both Python environments (``.venv/rasa`` runs
``rasa``, ``.venv/app`` the rest) and needs only what both have: psycopg2, redis, SQLAlchemy
and ``bot.settings``.

Configuration comes from environment variables (README, "Running in production"). When
``PROD_ENV_FILE`` names a file of ``KEY=VALUE`` lines, it is read first; variables already
set in the environment win. Secrets are never printed and never put on a command line
(``rasa run`` gets its token inside this process, so ``ps`` does not show it).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import (  # noqa: E402  (after the path set-up)
    DEV_SECRETS,
    SettingsError,
    display_url,
    load_settings,
)

ENDPOINTS = ROOT / "deploy" / "endpoints.prod.yml"
CREDENTIALS = ROOT / "deploy" / "credentials.prod.yml"
# socket.io (the web chat page) is served by single-worker Rasa processes: an engine.io
# session lives in the memory of one process, so its requests must all reach that process
# (one worker per process, and sticky sessions across replicas at the load balancer).
SOCKETIO_CREDENTIALS = ROOT / "deploy" / "credentials.socketio.yml"
ROLES = ("rasa", "actions", "backoffice")
MIN_SECRET_CHARS = 16
# Checked elsewhere: the Fernet keys by bot.settings, the staff password by the console.
LENGTH_EXEMPT = ("BACKOFFICE_ENCRYPTION_KEYS", "ADMIN_PASSWORD")
MIGRATION_LOCK_ID = 7_240_513  # pg_advisory_lock key: one migration at a time across replicas

# Defaults of the profile (every one can be overridden by the environment).
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

log = logging.getLogger("prod")


class ProfileError(Exception):
    """The profile cannot start; the message is one line naming every problem."""


# --- environment ------------------------------------------------------------------------------


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


def prepare_environ(environ: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of the profile: the process environment, PROD_ENV_FILE, defaults."""
    env = dict(os.environ if environ is None else environ)
    env_file = env.get("PROD_ENV_FILE", "").strip()
    if env_file:
        path = Path(env_file)
        if not path.is_absolute():
            path = ROOT / path
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
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# --- checks -----------------------------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return url.strip().split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def _secret_problems(env: Mapping[str, str], names: Iterable[str]) -> list[str]:
    problems = []
    for name in names:
        value = env.get(name, "").strip()
        if not value or value == DEV_SECRETS.get(name):
            problems.append(f"{name} is not set or still has its development default")
        elif name not in LENGTH_EXEMPT and len(value) < MIN_SECRET_CHARS:
            problems.append(f"{name} is shorter than {MIN_SECRET_CHARS} characters")
    return problems


def _int_problem(env: Mapping[str, str], name: str, minimum: int = 1) -> list[str]:
    try:
        if int(env.get(name, "")) >= minimum:
            return []
    except ValueError:
        pass
    return [f"{name} must be an integer of at least {minimum}"]


def model_path(env: Mapping[str, str]) -> Path:
    path = Path(env.get("RASA_MODEL", "").strip() or "models")
    return path if path.is_absolute() else ROOT / path


def role_problems(role: str, env: Mapping[str, str]) -> list[str]:
    """Everything that keeps ``role`` from starting as a production process."""
    problems: list[str] = []
    if env.get("APP_ENV") != "production":
        problems.append("APP_ENV must be production")
    if role == "backoffice":
        try:
            settings = load_settings(env)
            settings.check_production()
        except SettingsError as exc:
            problems.append(str(exc))
        else:
            problems += [
                p
                for p in _secret_problems(env, sorted(DEV_SECRETS))
                if "development default" not in p  # reported by check_production
            ]
        if not _is_postgres(env.get("DATABASE_URL", "")):
            problems.append("DATABASE_URL must be a PostgreSQL URL (SQLite is for development)")
        if not _is_postgres(env.get("TRACKER_DB_URL", "")):
            problems.append("TRACKER_DB_URL must be a PostgreSQL URL")
        if env.get("RATE_LIMIT_BACKEND") != "redis":
            problems.append("RATE_LIMIT_BACKEND must be redis (limits shared by every process)")
    elif role == "actions":
        problems += _secret_problems(env, ["BACKOFFICE_SERVICE_TOKEN"])
        problems += _int_problem(env, "ACTION_SERVER_SANIC_WORKERS")
        if not env.get("BACKOFFICE_URL", "").startswith(("http://", "https://")):
            problems.append("BACKOFFICE_URL must be an http(s) URL")
    elif role == "rasa":
        problems += _secret_problems(env, ["RASA_TOKEN"])
        jwt = env.get("RASA_JWT_SECRET", "").strip()
        if jwt and len(jwt) < MIN_SECRET_CHARS:
            problems.append(f"RASA_JWT_SECRET is shorter than {MIN_SECRET_CHARS} characters")
        if not _is_postgres(env.get("TRACKER_DB_URL", "")):
            problems.append(
                "TRACKER_DB_URL must be a PostgreSQL URL (a form's answers live in the tracker)"
            )
        if not env.get("LOCK_STORE_URL", "").startswith("redis://"):
            problems.append("LOCK_STORE_URL (or REDIS_URL) must be a redis:// URL")
        if env.get("RATE_LIMIT_BACKEND") != "redis":
            problems.append("RATE_LIMIT_BACKEND must be redis (limits shared by every worker)")
        if not env.get("LOCK_STORE_KEY_PREFIX", "").isalnum():
            problems.append("LOCK_STORE_KEY_PREFIX must be letters and digits only")
        problems += _int_problem(env, "SANIC_WORKERS")
        if not model_path(env).is_file():
            problems.append("RASA_MODEL must name a trained model file (make model)")
    else:
        raise ValueError(role)
    return problems


def check(role: str, env: Mapping[str, str]) -> None:
    problems = role_problems(role, env)
    if problems:
        raise ProfileError(f"refusing to start the production {role}: " + "; ".join(problems))


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


def targets_of(role: str, env: Mapping[str, str]) -> list[Target]:
    if role == "backoffice":
        return [
            PostgresTarget("PostgreSQL (case store)", env["DATABASE_URL"]),
            RedisTarget("Redis (rate limits)", env["REDIS_URL"]),
        ]
    if role == "rasa":
        found = [
            PostgresTarget("PostgreSQL (tracker store)", env["TRACKER_DB_URL"]),
            RedisTarget("Redis (lock store)", env["LOCK_STORE_URL"]),
        ]
        if env.get("REDIS_URL") and env["REDIS_URL"] != env["LOCK_STORE_URL"]:
            found.append(RedisTarget("Redis (rate limits)", env["REDIS_URL"]))
        return found
    return []


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
                    except psycopg2.errors.InsufficientPrivilege:
                        log.warning("database %s is missing and may not be created by this "
                                    "user: ask the database administrator", dbname)
                    else:
                        log.info("created database %s", dbname)
        finally:
            conn.close()


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + dbname).geturl()


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
                    [sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=dict(env)
                )
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    finally:
        conn.close()
    if result.returncode != 0:
        raise ProfileError(f"migration failed (exit {result.returncode})")


# --- the processes ----------------------------------------------------------------------------


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


def rasa_argv(env: Mapping[str, str]) -> list[str]:
    """``rasa run`` arguments of the profile (the token is among them: never log this list)."""
    argv = [
        "rasa",
        "run",
        "--model",
        str(model_path(env)),
        "--endpoints",
        str(ENDPOINTS),
        "--credentials",
        env.get("RASA_CREDENTIALS") or str(CREDENTIALS),
        "--interface",
        env["RASA_HOST"],
        "--port",
        env["RASA_PORT"],
        "--enable-api",
        "--auth-token",
        env["RASA_TOKEN"],
    ]
    jwt = env.get("RASA_JWT_SECRET", "").strip()
    if jwt:
        argv += ["--jwt-secret", jwt, "--jwt-method", env.get("RASA_JWT_METHOD", "HS256")]
    origins = env.get("RASA_CORS_ORIGINS", "").replace(",", " ").split()
    if origins:
        argv += ["--cors", *origins]
    return argv


def run_rasa(env: dict[str, str]) -> None:
    check("rasa", env)
    wait_for(targets_of("rasa", env))
    ensure_tracker_schema(env)
    env.update(lock_store_env(env))
    env.setdefault("SANIC_REQUEST_MAX_SIZE", env.get("MAX_BODY_BYTES", "65536"))
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::PendingDeprecationWarning")
    log.info(
        "starting Rasa on %s:%s with %s Sanic workers (tracker %s, lock store %s)",
        env["RASA_HOST"],
        env["RASA_PORT"],
        env["SANIC_WORKERS"],
        display_url(env["TRACKER_DB_URL"]),
        f"{env['LOCK_STORE_HOST']}:{env['LOCK_STORE_PORT']}/{env['LOCK_STORE_DB']}",
    )
    # A fresh interpreter, so that the environment (warning filters, SQLAlchemy settings) is
    # in force from its start; the token travels in the environment, not on the command line.
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), "rasa-server"], env)


def run_rasa_socketio(env: dict[str, str]) -> None:
    """The socket.io replica: one Sanic worker, socket.io and REST channels, its own port."""
    env["RASA_PORT"] = env["RASA_SOCKETIO_PORT"]
    env["SANIC_WORKERS"] = "1"
    env["RASA_CREDENTIALS"] = str(SOCKETIO_CREDENTIALS)
    run_rasa(env)


def rasa_server() -> None:
    """Second stage of ``rasa``: ``rasa run`` in this process with the profile's arguments."""
    os.chdir(ROOT)
    sys.argv = rasa_argv(os.environ)
    from connectors.speedups import install as install_speedups
    from rasa.__main__ import main as rasa_main

    install_speedups()  # no behaviour changes: README "Measured speed"

    rasa_main()


def run_actions(env: dict[str, str]) -> None:
    check("actions", env)
    env["SANIC_HOST"] = env["ACTION_SERVER_HOST"]
    log.info(
        "starting the action server on %s:%s with %s Sanic workers",
        env["ACTION_SERVER_HOST"],
        env["ACTION_SERVER_PORT"],
        env["ACTION_SERVER_SANIC_WORKERS"],
    )
    argv = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", env["ACTION_SERVER_PORT"]]
    os.chdir(ROOT)
    os.execve(sys.executable, argv, env)


def run_backoffice(env: dict[str, str]) -> None:
    check("backoffice", env)
    wait_for(targets_of("backoffice", env))
    if env.get("BACKOFFICE_MIGRATE_ON_START", "true").lower() in ("1", "true", "yes"):
        migrate(env)
    log.info("starting the back office on %s:%s", env["BACKOFFICE_HOST"], env["BACKOFFICE_PORT"])
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "-m", "bot", "serve"], env)


# --- env file ---------------------------------------------------------------------------------


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
        "SANIC_WORKERS=2",
        "ACTION_SERVER_SANIC_WORKERS=2",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


# --- command line -----------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/prod.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        choices=("env", "check", "createdb", "wait", "migrate", *ROLES, "rasa-socketio", "rasa-server"),
        help="rasa-server is the second stage of rasa (after the checks), not for direct use",
    )
    parser.add_argument("--role", choices=ROLES + ("all",), default="all")
    parser.add_argument("--out", default="var/prod.env", help="env: the file to write")
    parser.add_argument("--if-missing", action="store_true", help="env: keep an existing file")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s prod: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "env":
            out = Path(args.out) if Path(args.out).is_absolute() else ROOT / args.out
            if out.exists() and args.if_missing:
                log.info("using %s", out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
                return 0
            new_env_file(out)
            log.info(
                "wrote %s (mode 600) with new secrets; back up BACKOFFICE_ENCRYPTION_KEYS and "
                "BACKOFFICE_HMAC_KEY from it, and read ADMIN_PASSWORD there",
                out,
            )
            return 0
        env = prepare_environ()
        roles = ROLES if args.role == "all" else (args.role,)
        if args.command == "check":
            problems = [f"{role}: {p}" for role in roles for p in role_problems(role, env)]
            if problems:
                raise ProfileError("refusing to start the production profile: " + "; ".join(problems))
            log.info("production profile checked: %s", ", ".join(roles))
        elif args.command == "createdb":
            create_databases(env)
        elif args.command == "wait":
            wait_for([t for role in roles for t in targets_of(role, env)])
        elif args.command == "migrate":
            migrate(env)
        elif args.command == "rasa":
            run_rasa(env)
        elif args.command == "rasa-socketio":
            run_rasa_socketio(env)
        elif args.command == "rasa-server":
            rasa_server()
        elif args.command == "actions":
            run_actions(env)
        elif args.command == "backoffice":
            run_backoffice(env)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

