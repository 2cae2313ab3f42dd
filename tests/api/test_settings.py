"""Settings: development defaults, URL normalisation, production refusing dev secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from bot.settings import (
    DEV_ENCRYPTION_KEY,
    DEV_SECRETS,
    REPO_ROOT,
    SettingsError,
    load_settings,
)

REAL_SECRETS = {
    "BACKOFFICE_SERVICE_TOKEN": "a-real-service-token",
    "BACKOFFICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BACKOFFICE_HMAC_KEY": "a-real-hmac-key-value",
    "BACKOFFICE_SESSION_SECRET": "a-real-session-secret",
    "ADMIN_PASSWORD": "a-real-admin-password",
    "RASA_TOKEN": "a-real-rasa-token",
    "TRACKER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def test_development_defaults_are_documented_constants():
    settings = load_settings({})
    assert settings.app_env == "development"
    assert settings.database_url == f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'backoffice.db'}"
    assert (settings.backoffice_host, settings.backoffice_port) == ("127.0.0.1", 8080)
    assert settings.backoffice_url == "http://127.0.0.1:8080"
    assert settings.service_token == DEV_SECRETS["BACKOFFICE_SERVICE_TOKEN"]
    assert settings.encryption_keys == (DEV_ENCRYPTION_KEY,)
    assert settings.rate_limit_backend == "memory"
    assert settings.status_max_failures_per_case == 5
    assert settings.status_window_seconds == 900
    assert settings.max_body_bytes == 65536
    # A development start is allowed with the defaults.
    settings.check_production()


def test_repr_hides_secrets():
    text = repr(load_settings({"BACKOFFICE_SERVICE_TOKEN": "s3cret-token-value"}))
    assert "s3cret-token-value" not in text
    assert DEV_ENCRYPTION_KEY not in text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/x", "postgresql+asyncpg://u:p@db:5432/x"),
        ("postgres://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("sqlite:////tmp/a.db", "sqlite+aiosqlite:////tmp/a.db"),
    ],
)
def test_database_url_gets_async_driver(given, expected):
    assert load_settings({"DATABASE_URL": given}).database_url == expected


def test_rotation_keys_are_read_in_order():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = load_settings({"BACKOFFICE_ENCRYPTION_KEYS": f" {new} , {old} "})
    assert settings.encryption_keys == (new, old)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"BACKOFFICE_ENCRYPTION_KEYS": "not-a-key"}, "key 1 is not a valid Fernet key"),
        ({"BACKOFFICE_PORT": "eighty"}, "BACKOFFICE_PORT must be an integer"),
        ({"APP_ENV": "staging"}, "APP_ENV must be one of"),
        ({"RATE_LIMIT_BACKEND": "memcached"}, "RATE_LIMIT_BACKEND must be one of"),
    ],
)
def test_bad_values_are_clear_errors(env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        load_settings(env)


def test_production_refuses_every_development_secret():
    with pytest.raises(SettingsError) as info:
        load_settings({"APP_ENV": "production"}).check_production()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("refusing to start in production")
    for name in DEV_SECRETS:
        assert name in message


@pytest.mark.parametrize("name", sorted(DEV_SECRETS))
def test_production_refuses_a_single_remaining_default(name):
    env = {"APP_ENV": "production", **REAL_SECRETS}
    del env[name]
    with pytest.raises(SettingsError, match=name):
        load_settings(env).check_production()


def test_production_refuses_dev_key_kept_for_decryption():
    env = {"APP_ENV": "production", **REAL_SECRETS}
    env["BACKOFFICE_ENCRYPTION_KEYS"] += "," + DEV_ENCRYPTION_KEY
    with pytest.raises(SettingsError, match="BACKOFFICE_ENCRYPTION_KEYS"):
        load_settings(env).check_production()


def test_production_with_real_secrets_starts():
    load_settings({"APP_ENV": "production", **REAL_SECRETS}).check_production()


async def test_init_app_refuses_production_defaults():
    from bot.app import init_app

    with pytest.raises(SettingsError):
        await init_app(load_settings({"APP_ENV": "production"}))


def test_serve_command_exits_with_one_line_error_in_production():
    env = {k: v for k, v in os.environ.items() if k not in DEV_SECRETS}
    env.update({"APP_ENV": "production", "PYTHONPATH": str(REPO_ROOT)})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: refusing to start in production")
    assert "Traceback" not in result.stderr


def test_print_dev_settings_shows_only_development_secrets():
    def run(extra):
        env = {k: v for k, v in os.environ.items() if k not in DEV_SECRETS}
        env.update({"PYTHONPATH": str(REPO_ROOT), **extra})
        return subprocess.run(
            [sys.executable, "-m", "bot", "print-dev-settings"],
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    result = run({})
    assert result.returncode == 0, result.stderr
    assert "BACKOFFICE_SERVICE_TOKEN=dev-service-token" in result.stdout
    assert "ADMIN_PASSWORD=admin-dev-password" in result.stdout
    result = run(REAL_SECRETS)
    assert result.returncode == 0, result.stderr
    for value in REAL_SECRETS.values():
        assert value not in result.stdout
    assert "Development defaults in use" not in result.stdout
