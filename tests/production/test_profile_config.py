"""The production profile's launcher and deployment files, without starting the stack:
what refuses to start, what Rasa reads, and that the images, compose file and env example
run the same commands with the same variables as the tested profile."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from bot.settings import DEV_SECRETS
from tests.support.stack import ROOT, rasa_python

LAUNCHER = ROOT / "scripts" / "prod.py"
DEPLOY = ROOT / "deploy"

spec = importlib.util.spec_from_file_location("prod_launcher", LAUNCHER)
prod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prod)


def good_env(tmp_path: Path) -> dict[str, str]:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not really a model")
    return {
        "PROD_ENV_FILE": "",
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://xf:pw@db.internal:5432/xinfang",
        "TRACKER_DB_URL": "postgresql://xf:pw@db.internal:5432/xinfang_tracker",
        "REDIS_URL": "redis://:pw@cache.internal:6379/2",
        "BACKOFFICE_SERVICE_TOKEN": "s" * 32,
        "BACKOFFICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BACKOFFICE_HMAC_KEY": "h" * 32,
        "BACKOFFICE_SESSION_SECRET": "x" * 32,
        "ADMIN_PASSWORD": "a-real-staff-password",
        "RASA_TOKEN": "r" * 32,
        "REST_CHANNEL_TOKEN": "t" * 32,
        "WEBCHAT_SESSION_SECRET": "w" * 32,
        "ACTION_ENDPOINT_TOKEN": "a" * 32,
        "TRACKER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RASA_MODEL": str(model),
    }


def launch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, str(LAUNCHER), *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("command", ["rasa", "rasa-socketio", "actions", "backoffice"])
def test_every_process_refuses_to_start_with_development_secrets(command: str, tmp_path: Path) -> None:
    env = good_env(tmp_path)
    env.update(DEV_SECRETS)  # every secret back at its development value
    result = launch([command], env)
    assert result.returncode == 2
    [line] = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert "refusing to start the production" in line and "development default" in line
    named = {"rasa": "RASA_TOKEN", "rasa-socketio": "RASA_TOKEN", "actions": "BACKOFFICE_SERVICE_TOKEN",
             "backoffice": "BACKOFFICE_ENCRYPTION_KEYS"}[command]
    assert named in line
    for value in DEV_SECRETS.values():  # says which, never echoes a secret
        assert value not in result.stderr or value == "admin"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DATABASE_URL": "sqlite:///var/backoffice.db"}, "DATABASE_URL must be a PostgreSQL URL"),
        ({"TRACKER_DB_URL": "sqlite:///var/tracker.db"}, "TRACKER_DB_URL must be a PostgreSQL URL"),
        ({"RATE_LIMIT_BACKEND": "memory"}, "RATE_LIMIT_BACKEND must be redis"),
        ({"RASA_TOKEN": "short"}, "RASA_TOKEN is shorter than 16"),
        ({"RASA_JWT_SECRET": "short"}, "RASA_JWT_SECRET is shorter than 16"),
        ({"APP_ENV": "development"}, "APP_ENV must be production"),
        ({"RASA_MODEL": "/nonexistent/model.tar.gz"}, "RASA_MODEL must name a trained model"),
        ({"SANIC_WORKERS": "zero"}, "SANIC_WORKERS must be an integer"),
    ],
)
def test_the_profile_check_names_what_is_wrong(change, message, tmp_path: Path) -> None:
    env = {**good_env(tmp_path), **change}
    result = launch(["check"], env)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_complete_production_environment_passes_the_check(tmp_path: Path) -> None:
    result = launch(["check"], good_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "production profile checked: rasa, actions, backoffice" in result.stderr


def test_the_generated_env_file_has_fresh_private_secrets_and_passes(tmp_path: Path) -> None:
    out = tmp_path / "prod.env"
    assert launch(["env", "--out", str(out)], {}).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = dict(l.split("=", 1) for l in out.read_text().splitlines() if "=" in l and not l.startswith("#"))
    Fernet(values["BACKOFFICE_ENCRYPTION_KEYS"])
    assert not set(values.values()) & set(DEV_SECRETS.values())
    env = {"PROD_ENV_FILE": str(out), "RASA_MODEL": good_env(tmp_path)["RASA_MODEL"]}
    result = launch(["check"], env)
    assert result.returncode == 0, result.stderr
    # --if-missing keeps the file (and its keys) as they are
    before = out.read_text()
    assert launch(["env", "--out", str(out), "--if-missing"], {}).returncode == 0
    assert out.read_text() == before


def test_variables_in_the_environment_win_over_the_env_file(tmp_path: Path) -> None:
    path = tmp_path / "p.env"
    path.write_text("RASA_PORT=6000\nexport RASA_HOST='10.0.0.5'\n# comment\n")
    env = prod.prepare_environ({"PROD_ENV_FILE": str(path), "RASA_PORT": "7000"})
    assert env["RASA_PORT"] == "7000" and env["RASA_HOST"] == "10.0.0.5"


def test_rasa_runs_on_loopback_with_the_protected_api_by_default(tmp_path: Path) -> None:
    env = prod.prepare_environ(good_env(tmp_path))
    argv = prod.rasa_argv(env)
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" in argv and argv[argv.index("--auth-token") + 1] == "r" * 32
    assert "--jwt-secret" not in argv and "--cors" not in argv
    assert argv[argv.index("--endpoints") + 1] == str(DEPLOY / "endpoints.prod.yml")
    env.update({"RASA_JWT_SECRET": "j" * 32, "RASA_CORS_ORIGINS": "https://a.example, https://b.example"})
    argv = prod.rasa_argv(env)
    assert argv[argv.index("--jwt-secret") + 1] == "j" * 32
    assert argv[argv.index("--cors") + 1 :][:2] == ["https://a.example", "https://b.example"]
    for host in ("ACTION_SERVER_HOST", "BACKOFFICE_HOST"):
        assert env[host] == "127.0.0.1"


def test_rasa_reads_the_production_endpoints_as_postgresql_and_the_atomic_redis_lock_store(
    tmp_path: Path,
) -> None:
    env = prod.prepare_environ(good_env(tmp_path))
    env.update(prod.lock_store_env(env))
    script = (
        "import json\n"
        "from rasa.core.utils import AvailableEndpoints\n"
        f"e = AvailableEndpoints.read_endpoints({str(DEPLOY / 'endpoints.prod.yml')!r})\n"
        "print(json.dumps({'tracker': [e.tracker_store.type, e.tracker_store.url, e.tracker_store.kwargs],"
        " 'lock': [e.lock_store.type, e.lock_store.url, e.lock_store.kwargs],"
        " 'action': e.action.url, 'action_headers': e.action.headers}))\n"
    )
    result = subprocess.run(
        [str(rasa_python()), "-W", "ignore", "-c", script], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    read = json.loads(result.stdout.strip().splitlines()[-1])
    assert read["tracker"][:2] == ["connectors.tracker_store.EncryptedSQLTrackerStore", "db.internal"]
    assert read["tracker"][2] == {"dialect": "postgresql", "port": "5432", "db": "xinfang_tracker",
                                  "username": "xf", "password": "pw"}
    assert read["lock"][:2] == ["connectors.lockstore.AtomicRedisLockStore", "cache.internal"]
    assert read["lock"][2] == {"port": "6379", "db": "2", "password": "pw", "key_prefix": "xinfang"}
    assert read["action"] == "http://127.0.0.1:5055/webhook"
    assert read["action_headers"] == {"Authorization": "Bearer " + "a" * 32}  # the action server's secret


# --- deployment files ----------------------------------------------------------------------------


def test_images_and_compose_run_the_tested_launcher_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    commands = {name: svc.get("command") for name, svc in compose["services"].items()}
    for process in ("rasa", "rasa-socketio", "actions", "backoffice"):
        assert commands[process] == ["python", "scripts/prod.py", process]
    for dockerfile, process in (("Dockerfile.rasa", "rasa"), ("Dockerfile.actions", "actions"),
                                ("Dockerfile.backoffice", "backoffice")):
        text = (DEPLOY / dockerfile).read_text()
        assert f'CMD ["python", "scripts/prod.py", "{process}"]' in text
        assert "python:3.10" in text  # rasa 3.6 needs Python < 3.11; the app venv is 3.10 too
        env_name = "rasa" if process == "rasa" else "app"
        assert f"pip install -r requirements/{env_name}.txt" in text  # the locked, tested set
        assert (DEPLOY / f"{dockerfile}.dockerignore").is_file()
    procfile = (ROOT / "Procfile.prod").read_text()
    for process in ("rasa", "rasa-socketio", "actions", "backoffice"):
        assert re.search(rf"^{process}: \$\w+ scripts/prod.py {process}$", procfile, re.M), process


def test_the_env_example_names_only_variables_the_profile_reads() -> None:
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", (DEPLOY / "prod.env.example").read_text(), re.M)
    readers = [*sorted((ROOT / "bot" / "settings").glob("*.py")), ROOT / "bot" / "ops.py", LAUNCHER]
    known = {n for path in readers for n in re.findall(r'"([A-Z][A-Z0-9_]+)"', path.read_text())}
    compose_only = {"POSTGRES_USER", "POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    unknown = [n for n in names if n not in known | compose_only]
    assert not unknown, unknown
    compose_text = (DEPLOY / "compose.yml").read_text()
    assert all(f"${{{n}}}" in compose_text for n in compose_only)


def test_each_service_env_file_holds_only_that_process_s_secrets(tmp_path: Path) -> None:
    from bot.ops import is_secret_variable, own_secrets

    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    env = prod.prepare_environ(good_env(tmp_path))
    common = re.findall(r"^([A-Z][A-Z0-9_]+)=", (DEPLOY / "common.env.example").read_text(), re.M)
    assert common and not [n for n in common if is_secret_variable(n)]
    for service, role in (("rasa", "rasa"), ("rasa-socketio", "rasa"), ("actions", "actions"),
                          ("backoffice", "backoffice")):
        assert compose["services"][service]["env_file"] == ["common.env", f"{role}.env"], service
        names = re.findall(r"^([A-Z][A-Z0-9_]+)=", (DEPLOY / f"{role}.env.example").read_text(), re.M)
        strangers = [n for n in names if is_secret_variable(n) and n not in own_secrets(role, env)]
        assert names and not strangers, (role, strangers)
    assert "DATABASE_URL" not in (DEPLOY / "rasa.env.example").read_text()
    assert "env_file" not in compose["services"]["nginx"]
