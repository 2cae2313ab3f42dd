#!/usr/bin/env python3
"""Launcher of the production profile: one command per process, and the checks before them.

    python scripts/prod.py env [--out FILE] [--if-missing]  write an env file with new secrets
    python scripts/prod.py check [--role ROLE]              refuse development secrets / SQLite
    python scripts/prod.py createdb                         create the PostgreSQL databases if missing
    python scripts/prod.py wait [--role ROLE]               wait until PostgreSQL and Redis answer
    python scripts/prod.py migrate                          wait, then migrate the case store
    python scripts/prod.py rasa | actions | backoffice      check, wait, then run that process
    python scripts/prod.py rasa-socketio                    the single-worker Rasa serving socket.io
    python scripts/prod.py retention                        the back office's daily ``python -m bot purge``

``make run-prod`` (``Procfile.prod``), the container images (``deploy/Dockerfile.*``) and the
tests of the profile (``tests/production``) all start the processes through this file, so
what is tested is what runs. It works in both Python environments (``.venv/rasa`` runs
``rasa``, ``.venv/app`` the rest) and needs only what both have: psycopg2, redis, SQLAlchemy,
``bot.settings`` and ``bot.ops`` (waiting, databases, env files).

Each process is checked by its own settings (``bot.settings``), which refuse development and
too short secrets the same way everywhere, and started with only its own secrets
(``bot.ops.process_environ``); this file adds what the profile needs: PostgreSQL, Redis, a model.

Configuration comes from environment variables (README, "Running in production"). When
``PROD_ENV_FILE`` names a file of ``KEY=VALUE`` lines, it is read first; variables already
set in the environment win. Secrets are never printed and never put on a command line
(``rasa run`` gets its token inside this process, so ``ps`` does not show it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ops import (  # noqa: E402  (after the path set-up)
    PostgresTarget,
    ProfileError,
    RedisTarget,
    Target,
    create_databases,
    ensure_tracker_schema,
    is_postgres,
    lock_store_env,
    migrate,
    new_env_file,
    process_environ,
    profile_environ,
    wait_for,
)
from bot.settings import SettingsError, display_url, load_settings  # noqa: E402
from bot.settings.actions import load_action_settings  # noqa: E402
from bot.settings.channels import load_channel_settings  # noqa: E402
from bot.settings.common import PLACEHOLDER_MARK, ProcessSettings, refusal  # noqa: E402

ENDPOINTS = ROOT / "deploy" / "endpoints.prod.yml"
CREDENTIALS = ROOT / "deploy" / "credentials.prod.yml"
# socket.io is served by single-worker Rasa processes: an engine.io session lives in one
# process's memory (one worker each, sticky sessions across replicas at the load balancer).
SOCKETIO_CREDENTIALS = ROOT / "deploy" / "credentials.socketio.yml"
ROLES = ("rasa", "actions", "backoffice")
# Each process's settings, read from the profile's environment ("rasa" runs the channels).
SETTINGS = {"rasa": load_channel_settings, "actions": load_action_settings, "backoffice": load_settings}

log = logging.getLogger("prod")


def prepare_environ(environ: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of the profile: the process environment, PROD_ENV_FILE, defaults."""
    return profile_environ(os.environ if environ is None else environ)


def model_path(env: Mapping[str, str]) -> Path:
    path = Path(env.get("RASA_MODEL", "").strip() or "models")
    return path if path.is_absolute() else ROOT / path


def role_problems(role: str, env: Mapping[str, str]) -> list[str]:
    """Everything that keeps ``role`` from starting as a production process: its settings'
    production check, then what the profile needs besides."""
    problems = [] if env.get("APP_ENV") == "production" else ["APP_ENV must be production"]
    try:
        settings: ProcessSettings = SETTINGS[role](env)
    except SettingsError as exc:
        return problems + [str(exc)]
    problems += settings.production_problems()
    copied = [name for name in ("DATABASE_URL", "TRACKER_DB_URL", "REDIS_URL", "LOCK_STORE_URL")
              if PLACEHOLDER_MARK.lower() in env.get(name, "").lower()]
    if copied:
        problems.append(", ".join(copied) + f" still hold the example's placeholder password ({PLACEHOLDER_MARK})")
    if role == "backoffice" and not is_postgres(env.get("DATABASE_URL", "")):
        problems.append("DATABASE_URL must be a PostgreSQL URL (SQLite is for development)")
    if role in ("backoffice", "rasa"):
        if not is_postgres(env.get("TRACKER_DB_URL", "")):
            problems.append("TRACKER_DB_URL must be a PostgreSQL URL (a form's answers live there)")
        if env.get("RATE_LIMIT_BACKEND") != "redis":
            problems.append("RATE_LIMIT_BACKEND must be redis (limits shared by every process)")
    if role == "rasa":
        if not env.get("LOCK_STORE_URL", "").startswith("redis://"):
            problems.append("LOCK_STORE_URL (or REDIS_URL) must be a redis:// URL")
        if not env.get("LOCK_STORE_KEY_PREFIX", "").isalnum():
            problems.append("LOCK_STORE_KEY_PREFIX must be letters and digits only")
        if not env.get("SANIC_WORKERS", "").isdigit() or int(env["SANIC_WORKERS"]) < 1:
            problems.append("SANIC_WORKERS must be an integer of at least 1")
        if not model_path(env).is_file():
            problems.append("RASA_MODEL must name a trained model file (make model)")
    return problems


def check(role: str, env: Mapping[str, str]) -> None:
    problems = role_problems(role, env)
    if problems:
        raise ProfileError(refusal(problems, role))


def targets_of(role: str, env: Mapping[str, str]) -> list[Target]:
    if role == "backoffice":
        return [
            PostgresTarget("PostgreSQL (case store)", env["DATABASE_URL"]),
            RedisTarget("Redis (rate limits)", env["REDIS_URL"]),
        ]
    if role == "rasa":
        found: list[Target] = [
            PostgresTarget("PostgreSQL (tracker store)", env["TRACKER_DB_URL"]),
            RedisTarget("Redis (lock store)", env["LOCK_STORE_URL"]),
        ]
        if env.get("REDIS_URL") and env["REDIS_URL"] != env["LOCK_STORE_URL"]:
            found.append(RedisTarget("Redis (rate limits)", env["REDIS_URL"]))
        return found
    return []


# --- the processes ----------------------------------------------------------------------------


def rasa_argv(env: Mapping[str, str]) -> list[str]:
    """``rasa run`` arguments of the profile (the token is among them: never log this list)."""
    argv = ["rasa", "run", "--model", str(model_path(env)), "--endpoints", str(ENDPOINTS),
            "--credentials", env.get("RASA_CREDENTIALS") or str(CREDENTIALS),
            "--interface", env["RASA_HOST"], "--port", env["RASA_PORT"],
            "--enable-api", "--auth-token", env["RASA_TOKEN"]]
    jwt = env.get("RASA_JWT_SECRET", "").strip()
    if jwt:
        argv += ["--jwt-secret", jwt, "--jwt-method", env.get("RASA_JWT_METHOD", "HS256")]
    origins = env.get("RASA_CORS_ORIGINS", "").replace(",", " ").split()
    if origins:
        argv += ["--cors", *origins]
    return argv


def run_rasa(env: dict[str, str]) -> None:
    check("rasa", env)
    env = process_environ("rasa", env)  # only Rasa's own secrets (README "least privilege")
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
    env = process_environ("actions", env)
    settings = load_action_settings(env)
    env["SANIC_HOST"] = settings.host
    log.info(
        "starting the action server on %s:%s with %s Sanic workers",
        settings.host,
        settings.port,
        settings.workers,
    )
    argv = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.port)]
    os.chdir(ROOT)
    os.execve(sys.executable, argv, env)


def run_backoffice(env: dict[str, str]) -> None:
    check("backoffice", env)
    env = process_environ("backoffice", env)
    wait_for(targets_of("backoffice", env))
    if env.get("BACKOFFICE_MIGRATE_ON_START", "true").lower() in ("1", "true", "yes"):
        migrate(env)
    log.info("starting the back office on %s:%s", env["BACKOFFICE_HOST"], env["BACKOFFICE_PORT"])
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "-m", "bot", "serve"], env)


def run_retention(env: dict[str, str]) -> None:
    """The retention rules once a day (``python -m bot purge --every``), with the back office's
    settings and secrets (README "Retention enforced")."""
    check("backoffice", env)
    env = process_environ("backoffice", env)
    wait_for(targets_of("backoffice", env))
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "-m", "bot", "purge", "--every", "86400"], env)


def write_env_file(out_arg: str, if_missing: bool) -> None:
    out = Path(out_arg) if Path(out_arg).is_absolute() else ROOT / out_arg
    if out.exists() and if_missing:
        log.info("using %s", out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
        return
    new_env_file(out)
    log.info(
        "wrote %s (mode 600) with new secrets; back up BACKOFFICE_ENCRYPTION_KEYS and "
        "BACKOFFICE_HMAC_KEY from it, and read ADMIN_PASSWORD there",
        out,
    )


# --- command line -----------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/prod.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        choices=("env", "check", "createdb", "wait", "migrate", *ROLES, "rasa-socketio", "rasa-server", "retention"),
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
    commands = {
        "createdb": create_databases,
        "migrate": migrate,
        "rasa": run_rasa,
        "rasa-socketio": run_rasa_socketio,
        "actions": run_actions,
        "backoffice": run_backoffice,
        "retention": run_retention,
    }
    try:
        if args.command == "env":
            write_env_file(args.out, args.if_missing)
            return 0
        if args.command == "rasa-server":
            rasa_server()
            return 0
        env = prepare_environ()
        roles = ROLES if args.role == "all" else (args.role,)
        if args.command == "check":
            problems = [f"{role}: {p}" for role in roles for p in role_problems(role, env)]
            if problems:
                raise ProfileError(refusal(problems, "profile"))
            log.info("production profile checked: %s", ", ".join(roles))
        elif args.command == "wait":
            wait_for([t for role in roles for t in targets_of(role, env)])
        else:
            commands[args.command](env)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
