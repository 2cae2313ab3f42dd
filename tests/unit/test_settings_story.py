"""One configuration story: a settings class per process (back office, action server, Rasa
channels), each read once when its process starts, each refusing development secrets with the
same words; only the settings read the environment; the rule files come from the settings; the
action server keeps one back office session."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from cryptography.fernet import Fernet

from actions.backoffice import (
    BackOfficeClient,
    close_session,
    close_session_at_server_stop,
    shared_session,
)
from bot.rules import deadlines, jurisdiction
from bot.settings import REPO_ROOT, SettingsError, load_settings, refusal
from bot.settings.actions import action_settings, load_action_settings, set_action_settings
from bot.settings.channels import WECHAT_DEV_VALUES, WECHAT_VARIABLES, load_channel_settings
from bot.settings.common import ProcessSettings

BACKOFFICE_REAL = {
    "BACKOFFICE_SERVICE_TOKEN": "a-real-service-token",
    "BACKOFFICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BACKOFFICE_HMAC_KEY": "a-real-hmac-key-value",
    "BACKOFFICE_SESSION_SECRET": "a-real-session-secret",
    "ADMIN_PASSWORD": "a-real-admin-password",
    "RASA_TOKEN": "a-real-rasa-token",
    "TRACKER_ENCRYPTION_KEYS": "0f8ST0-w7kxoVUJ3sKZ7tbnCNqO7QeMZwAKbS_Y_I6k=",
}
BACKOFFICE_DEV = {
    "BACKOFFICE_SERVICE_TOKEN": "dev-service-token",
    "BACKOFFICE_ENCRYPTION_KEYS": "5YbykIK2Hj1vio8N7RQtpamKhEqLywCQjpwEeDdi4FQ=",
    "BACKOFFICE_HMAC_KEY": "dev-hmac-key",
    "BACKOFFICE_SESSION_SECRET": "dev-session-secret",
    "ADMIN_PASSWORD": "admin-dev-password",
    "RASA_TOKEN": "dev-rasa-token",
    "TRACKER_ENCRYPTION_KEYS": "CWctlUsb5LZ8JJ_emL7Q_1aagEXP0u2Fh8NJj8h7w3w=",
}
ACTIONS_REAL = {"BACKOFFICE_SERVICE_TOKEN": "a-real-service-token",
                "ACTION_ENDPOINT_TOKEN": "a-real-action-endpoint-token"}
CHANNELS_REAL = {"ACTION_ENDPOINT_TOKEN": "a-real-action-endpoint-token", "RASA_TOKEN": "a-real-rasa-token", "RASA_JWT_SECRET": "a-real-jwt-secret-value",
                 "REST_CHANNEL_TOKEN": "a-real-rest-channel-token",
                 "WEBCHAT_SESSION_SECRET": "a-real-webchat-session-secret",
                 "TRACKER_ENCRYPTION_KEYS": "0f8ST0-w7kxoVUJ3sKZ7tbnCNqO7QeMZwAKbS_Y_I6k="}
WECHAT_DEV = {WECHAT_VARIABLES[key]: value for key, value in WECHAT_DEV_VALUES.items()}

Loader = Callable[..., ProcessSettings]
# (process, its settings loader, real secrets, {variable: development value})
PROCESSES: list[tuple[str, Loader, dict[str, str], dict[str, str]]] = [
    ("backoffice", load_settings, BACKOFFICE_REAL, BACKOFFICE_DEV),
    ("actions", load_action_settings, ACTIONS_REAL, {"BACKOFFICE_SERVICE_TOKEN": "dev-service-token"}),
    ("channels", load_channel_settings, CHANNELS_REAL, {"RASA_TOKEN": "dev-rasa-token",
                                                        "REST_CHANNEL_TOKEN": "dev-rest-channel-token",
                                                        "WEBCHAT_SESSION_SECRET": "dev-webchat-session-secret",
                                                        "TRACKER_ENCRYPTION_KEYS": "CWctlUsb5LZ8JJ_emL7Q_1aagEXP0u2Fh8NJj8h7w3w=",
                                                        **WECHAT_DEV}),
]
DEV_CASES = [(name, load, real, var, dev[var]) for name, load, real, dev in PROCESSES for var in dev]
# Secrets with a minimum length, per process (the others have formats of their own).
SHORT_CASES = [
    ("backoffice", load_settings, BACKOFFICE_REAL, "BACKOFFICE_SERVICE_TOKEN"),
    ("backoffice", load_settings, BACKOFFICE_REAL, "BACKOFFICE_HMAC_KEY"),
    ("backoffice", load_settings, BACKOFFICE_REAL, "BACKOFFICE_SESSION_SECRET"),
    ("backoffice", load_settings, BACKOFFICE_REAL, "RASA_TOKEN"),
    ("actions", load_action_settings, ACTIONS_REAL, "BACKOFFICE_SERVICE_TOKEN"),
    ("channels", load_channel_settings, CHANNELS_REAL, "RASA_TOKEN"),
    ("channels", load_channel_settings, CHANNELS_REAL, "RASA_JWT_SECRET"),
    ("channels", load_channel_settings, CHANNELS_REAL, "REST_CHANNEL_TOKEN"),
    ("channels", load_channel_settings, CHANNELS_REAL, "WEBCHAT_SESSION_SECRET"),
]
ONE_DEV = re.compile(r"^refusing to start in production: ([A-Z0-9_]+) still has its development default$")
ONE_SHORT = re.compile(r"^refusing to start in production: ([A-Z0-9_]+) is shorter than 16 characters$")


def refusal_of(settings: ProcessSettings) -> str:
    with pytest.raises(SettingsError) as info:
        settings.check_production()
    return str(info.value)


def launcher():
    spec = importlib.util.spec_from_file_location("prod_launcher_story", REPO_ROOT / "scripts" / "prod.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- one production check, one wording --------------------------------------------------------


@pytest.mark.parametrize(("process", "load", "real", "variable", "dev"), DEV_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in DEV_CASES])
def test_every_process_refuses_each_development_secret_in_the_same_words(process, load, real, variable, dev):
    production = {"APP_ENV": "production", **real}
    load(production).check_production()  # real secrets: it starts
    load({**real, variable: dev}).check_production()  # development: the values are fine
    message = refusal_of(load({**production, variable: dev}))
    assert ONE_DEV.match(message) and ONE_DEV.match(message).group(1) == variable, message
    assert dev not in message  # names the variable, never echoes the value


@pytest.mark.parametrize(("process", "load", "real", "variable"), SHORT_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in SHORT_CASES])
def test_every_process_refuses_a_too_short_secret_in_the_same_words(process, load, real, variable):
    message = refusal_of(load({"APP_ENV": "production", **real, variable: "short-secret"}))
    assert ONE_SHORT.match(message) and ONE_SHORT.match(message).group(1) == variable, message


@pytest.mark.parametrize(("process", "load", "real", "variable"), SHORT_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in SHORT_CASES])
def test_every_process_refuses_a_placeholder_copied_from_the_examples(process, load, real, variable):
    """deploy/*.env.example's values are public: long enough, but never a secret."""
    value = "CHANGE-ME-" + variable.lower().replace("_", "-") + "-of-the-example"
    message = refusal_of(load({"APP_ENV": "production", **real, variable: value}))
    assert message == refusal([f"{variable} still holds the example's placeholder (CHANGE-ME)"])
    assert value not in message


def test_the_launcher_refuses_a_store_url_with_the_examples_password(tmp_path: Path):
    prod = launcher()
    env = {"APP_ENV": "production", **BACKOFFICE_REAL,
           "DATABASE_URL": "postgresql://xinfang:CHANGE-ME-case-password@postgres:5432/xinfang",
           "TRACKER_DB_URL": "postgresql://xinfang_tracker:s3cret-of-the-city@postgres:5432/xinfang_tracker"}
    problems = prod.role_problems("backoffice", env)
    assert "DATABASE_URL still hold the example's placeholder password (CHANGE-ME)" in problems
    assert not any("TRACKER_DB_URL" in p for p in problems)


@pytest.mark.parametrize(("process", "load", "real", "dev"), [(p[0], p[1], p[2], p[3]) for p in PROCESSES],
                         ids=[p[0] for p in PROCESSES])
def test_several_development_secrets_are_named_in_one_line(process, load, real, dev):
    message = refusal_of(load({"APP_ENV": "production", **real, **dev}))
    verb = "still has its" if len(dev) == 1 else "still have their"
    assert message == refusal([f"{', '.join(dev)} {verb} development default"])
    assert "\n" not in message


def test_the_launcher_reports_what_the_settings_of_each_process_report(tmp_path: Path):
    prod = launcher()
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not really a model")
    env = prod.prepare_environ({
        "PROD_ENV_FILE": "", "RASA_MODEL": str(model), **BACKOFFICE_DEV,
        "DATABASE_URL": "postgresql://xf@db/xinfang", "TRACKER_DB_URL": "postgresql://xf@db/tracker",
    })
    for role, load in (("backoffice", load_settings), ("actions", load_action_settings),
                       ("rasa", load_channel_settings)):
        assert prod.role_problems(role, env) == load(env).production_problems()
        with pytest.raises(prod.ProfileError) as info:
            prod.check(role, env)
        assert str(info.value) == refusal(load(env).production_problems(), role)
        assert str(info.value).startswith(f"refusing to start the production {role}: ")


# --- only the settings read the environment ---------------------------------------------------

ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\b|\bfrom os import [^\n]*\benviron\b|\benviron\.get\(")


def test_only_the_settings_modules_read_the_environment():
    settings_dir = REPO_ROOT / "bot" / "settings"
    readers = []
    for folder in ("bot", "actions", "connectors"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if settings_dir in path.parents:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if ENV_READ.search(line):
                    readers.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert readers == []
    # ... and the check would see one
    assert ENV_READ.search('x = os.environ.get("A")') and ENV_READ.search("getenv('A')")


def test_each_process_reads_its_settings_once(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_URL", "http://first.example:8080")
    first = action_settings()
    monkeypatch.setenv("BACKOFFICE_URL", "http://second.example:8080")
    assert action_settings() is first
    assert BackOfficeClient.from_settings().base_url == "http://first.example:8080"
    set_action_settings(None)  # what a restart does
    assert BackOfficeClient.from_settings().base_url == "http://second.example:8080"


# --- the rule files come from the settings ----------------------------------------------------


def _jurisdiction_file(tmp_path: Path, agency: str) -> Path:
    data = yaml.safe_load(jurisdiction.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["agency"] = agency
    path = tmp_path / "jurisdiction.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("load", [load_settings, load_action_settings, load_channel_settings])
def test_the_rule_files_are_settings(load, tmp_path: Path):
    assert load({}).jurisdiction_file is None  # the file shipped in bot/config
    settings = load({"JURISDICTION_FILE": str(tmp_path / "j.yml"), "HOLIDAYS_FILE": "var/h.yml"})
    assert settings.jurisdiction_file == tmp_path / "j.yml"
    if hasattr(settings, "holidays_file"):
        assert settings.holidays_file == REPO_ROOT / "var" / "h.yml"  # relative: the repository
    jurisdiction.use_file(settings.jurisdiction_file)
    assert jurisdiction.jurisdiction_file() == tmp_path / "j.yml"
    jurisdiction.use_file(None)
    assert jurisdiction.jurisdiction_file() == jurisdiction.DEFAULT_FILE


def test_the_back_office_takes_both_files_from_its_settings_at_start(tmp_path, monkeypatch, capsys):
    from bot.__main__ import main

    path = _jurisdiction_file(tmp_path, "测试市测试区信访局")
    holidays = tmp_path / "holidays.yml"
    holidays.write_text("years:\n  2099:\n    holidays: [2099-01-01]\n", encoding="utf-8")  # test data
    monkeypatch.setenv("JURISDICTION_FILE", str(path))
    monkeypatch.setenv("HOLIDAYS_FILE", str(holidays))
    assert main(["print-dev-settings"]) == 0
    capsys.readouterr()
    assert jurisdiction.load_jurisdiction().agency == "测试市测试区信访局"
    assert deadlines.holidays_file() == holidays
    assert deadlines.working_calendar().covers(2099)


def _started(python: Path, module: str, env: dict[str, str]) -> list[str]:
    code = (f"import {module}\n"
            "from bot.rules import jurisdiction\n"
            "print(jurisdiction.load_jurisdiction().agency)\n")
    result = subprocess.run(
        [str(python), "-W", "ignore", "-c", code], cwd="/", capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "APP_ENV"}, "PYTHONPATH": str(REPO_ROOT), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_the_action_server_takes_both_files_from_its_settings_at_start(tmp_path):
    path = _jurisdiction_file(tmp_path, "测试市测试区信访局")
    holidays = tmp_path / "holidays.yml"
    holidays.write_text("years: {}\n", encoding="utf-8")
    env = {"JURISDICTION_FILE": str(path), "HOLIDAYS_FILE": str(holidays)}
    code = ("import actions\nfrom bot.rules import deadlines, jurisdiction\n"
            "print(jurisdiction.load_jurisdiction().agency)\nprint(deadlines.holidays_file())\n")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["测试市测试区信访局", str(holidays)]


def test_the_rasa_channels_take_the_jurisdiction_from_their_settings_at_start(tmp_path):
    path = _jurisdiction_file(tmp_path, "测试市测试区信访局")
    rasa_python = REPO_ROOT / ".venv" / "rasa" / "bin" / "python"
    python = rasa_python if rasa_python.exists() else Path(sys.executable)  # where Rasa runs
    assert _started(python, "connectors", {"JURISDICTION_FILE": str(path)}) == ["测试市测试区信访局"]
    assert _started(python, "connectors", {}) == ["杭州市西湖区信访局"]


# --- one back office session for the action server ----------------------------------------------


@pytest.fixture
async def status_server(aiohttp_server):
    """A stand-in back office answering the status lookup; records each request's peer."""
    peers: list[object] = []

    async def status(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"case_no": request.match_info["case_no"], "status": "received"})

    app = web.Application()
    app.router.add_get("/api/v1/status/{case_no}", status)
    server = await aiohttp_server(app)
    yield server, peers
    await close_session()


async def test_the_action_client_reuses_one_session_and_connection(status_server):
    server, peers = status_server
    set_action_settings(load_action_settings({"BACKOFFICE_URL": str(server.make_url("")).rstrip("/")}))
    first = await BackOfficeClient.from_settings().case_status("XF2026000001", "123456", "c-1")
    session = shared_session()
    second = await BackOfficeClient.from_settings().case_status("XF2026000002", "123456", "c-2")
    assert first["case_no"] == "XF2026000001" and second["case_no"] == "XF2026000002"
    assert shared_session() is session and not session.closed
    assert len(peers) == 2 and peers[0] == peers[1]  # one kept-alive connection
    await close_session()
    assert session.closed
    assert shared_session() is not session  # a later call opens a new one


STOP_SERVER = """
import socket
from rasa_sdk.endpoint import create_app

app = create_app("actions")  # loads the actions package, as `python -m rasa_sdk` does
seen = {}

@app.after_server_start
async def use_and_stop(app, loop):
    from actions.backoffice import shared_session
    seen["session"] = shared_session()
    app.stop()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
app.run("127.0.0.1", port, workers=1, access_log=False)
print("closed" if seen["session"].closed else "open")
"""


def test_the_session_is_closed_when_the_rasa_sdk_server_stops():
    assert close_session_at_server_stop() is False  # no action server in this process
    result = subprocess.run(
        [sys.executable, "-c", STOP_SERVER], cwd="/", capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "closed"
