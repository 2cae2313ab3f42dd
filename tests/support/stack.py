"""Start the real processes (Rasa server, action server, back office) for end-to-end tests.

Each stack gets free ports, its own databases and its own log files under
``test-artifacts/<name>/``; nothing of a developer's ``make run`` is touched.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


# What connectors/tracker_store.py logs when a kept tracker differs from the stored one
# (TRACKER_CACHE_CHECK=1, set by tests/conftest.py).
TRACKER_CACHE_DIFFERS = "tracker cache: the kept tracker differs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def model_path() -> Path:
    """The trained model named after the hash of the training inputs (see scripts/model.py)."""
    env = os.environ.get("MODEL_PATH")
    if env:
        path = ROOT / env if not Path(env).is_absolute() else Path(env)
    else:
        out = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "model.py"), "path"],
            check=True,
            capture_output=True,
            text=True,
        )
        path = ROOT / out.stdout.strip()
    if not path.is_file():
        raise RuntimeError(f"no trained model at {path}: run `make model` first")
    return path


def rasa_bin() -> Path:
    return Path(os.environ.get("RASA_BIN") or ROOT / ".venv" / "rasa" / "bin" / "rasa")


def app_python() -> Path:
    return Path(os.environ.get("APP_PY") or sys.executable)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


@dataclass
class Stack:
    """A running set of processes and how to reach them."""

    name: str
    workdir: Path
    env: dict[str, str]
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    backoffice_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)
    rasa_token: str = "e2e-rasa-token"
    service_token: str = "e2e-service-token"
    # Optional: another credentials file (channels), the origins Rasa's CORS allows (the chat
    # page's origin), and where Rasa reaches the action server (e.g. through a test proxy).
    credentials: Path | None = None
    cors: list[str] | None = None
    action_url: str = ""

    # --- addresses ---------------------------------------------------------------------
    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def backoffice_url(self) -> str:
        return f"http://127.0.0.1:{self.backoffice_port}"

    @property
    def log_dir(self) -> Path:
        return ARTIFACTS / self.name

    # --- life cycle --------------------------------------------------------------------
    def process_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONUNBUFFERED": "1",
                "DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'backoffice.db'}",
                "BACKOFFICE_HOST": "127.0.0.1",
                "BACKOFFICE_PORT": str(self.backoffice_port),
                "BACKOFFICE_URL": self.backoffice_url,
                "BACKOFFICE_SERVICE_TOKEN": self.service_token,
                "RASA_URL": self.rasa_url,
                "RASA_TOKEN": self.rasa_token,
                "TRACKER_DB_URL": f"sqlite:///{self.workdir / 'tracker.db'}",
                "SANIC_HOST": "127.0.0.1",
                "CHAT_SOCKET_URL": self.rasa_url,  # the chat page's socket.io server
            }
        )
        env.update(self.env)
        return env

    def write_endpoints(self) -> Path:
        env = self.process_env()
        tracker_url = env["TRACKER_DB_URL"]
        if tracker_url.startswith("sqlite"):
            tracker = {"type": "connectors.tracker_store.EncryptedSQLTrackerStore",
                       "dialect": "sqlite", "db": tracker_url.split("///", 1)[1]}
        else:
            tracker = json.loads(env["E2E_TRACKER_STORE_JSON"])
        action_token = env.get("ACTION_ENDPOINT_TOKEN") or "dev-action-endpoint-token"
        # endpoints.yml's action endpoint (its options as shipped), at this stack's address
        shipped = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["action_endpoint"]
        endpoints: dict[str, Any] = {
            "action_endpoint": {
                **shipped,
                "url": self.action_url or f"http://127.0.0.1:{self.action_port}/webhook",
                "headers": {"Authorization": f"Bearer {action_token}"},  # the action server's secret
            },
            "tracker_store": tracker,
        }
        if env.get("E2E_LOCK_STORE_JSON"):
            endpoints["lock_store"] = json.loads(env["E2E_LOCK_STORE_JSON"])
        path = self.workdir / "endpoints.yml"
        path.write_text(json.dumps(endpoints, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
        return path

    def start_process(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env if env is not None else self.process_env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Process(name, popen, log)
        self.processes[name] = proc
        return proc

    def start_backoffice(self) -> None:
        subprocess.run(
            [str(app_python()), "-m", "bot", "migrate"],
            cwd=ROOT,
            env=self.process_env(),
            check=True,
            capture_output=True,
        )
        self.start_process("backoffice", [str(app_python()), "-m", "bot", "serve"])

    def start_actions(self) -> None:
        self.start_process(
            "actions",
            [str(app_python()), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)],
        )

    def start_rasa(self, extra: list[str] | None = None) -> None:
        endpoints = self.write_endpoints()
        self.start_process(
            "rasa",
            [
                # as Procfile (make run) starts it: Rasa's command line with connectors/speedups.py
                str(rasa_python()),
                "-m",
                "connectors.speedups",
                "run",
                "--model",
                str(model_path()),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(self.credentials or ROOT / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--enable-api",
                "--auth-token",
                self.rasa_token,
                *(["--cors", *self.cors] if self.cors else []),
                *(extra or []),
            ],
        )

    def start(self) -> "Stack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_backoffice()
        self.start_actions()
        self.start_rasa()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 240) -> None:
        checks = {
            "backoffice": f"{self.backoffice_url}/readyz",
            "actions": f"http://127.0.0.1:{self.action_port}/health",
            "rasa": f"{self.rasa_url}/status?token={self.rasa_token}",
        }
        deadline = time.monotonic() + timeout
        pending = {name: url for name, url in checks.items() if name in self.processes}
        while pending:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.popen.returncode}:\n{proc.tail()}")
                if _http_ok(url):
                    del pending[name]
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{self.processes[n].tail()}" for n in pending)
                raise RuntimeError(f"not ready after {timeout}s: {sorted(pending)}\n{tails}")
            time.sleep(0.5)

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop()
        differed = [proc.name for proc in self.processes.values()
                    if TRACKER_CACHE_DIFFERS in proc.tail(100000)]
        assert not differed, f"{differed}: a tracker kept in memory differed from the stored one (logs in {self.log_dir})"

    # --- talking to it -----------------------------------------------------------------
    def say(self, sender: str, message: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Send one message through the REST channel; the bot's replies."""
        return _post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message}, timeout)

    def tracker(self, sender: str) -> dict[str, Any]:
        return _get_json(f"{self.rasa_url}/conversations/{sender}/tracker?token={self.rasa_token}")

    def api_get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return _get(f"{self.backoffice_url}/api/v1{path}", token or self.service_token)


def new_sender(prefix: str = "citizen") -> str:
    """A REST conversation id: REST senders live in the ``rest-`` namespace, so the id sent is
    the id of the conversation (tracker, cases) as well."""
    return f"rest-{prefix}-{uuid.uuid4().hex[:10]}"


def texts_of(replies: list[dict[str, Any]]) -> str:
    """All reply texts joined, for assertions on what the citizen reads."""
    return "\n".join(r.get("text", "") for r in replies)


def button_payloads(replies: list[dict[str, Any]]) -> dict[str, str]:
    return {b["title"]: b["payload"] for r in replies for b in r.get("buttons", [])}


# --- tiny HTTP helpers (urllib only: the test environment needs nothing more) -----------
def _request(url: str, data: bytes | None, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _http_ok(url: str) -> bool:
    try:
        status, _ = _request(url, None, {}, 2)
    except OSError:
        return False
    return status == 200


def _post_json(url: str, body: dict[str, Any], timeout: float, headers: dict[str, str] | None = None) -> Any:
    status, raw = _request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}, timeout
    )
    if status != 200:
        raise RuntimeError(f"POST {url} -> {status}: {raw[:500]!r}")
    return json.loads(raw)


def _get_json(url: str) -> Any:
    status, raw = _request(url, None, {}, 30)
    if status != 200:
        raise RuntimeError(f"GET {url} -> {status}: {raw[:500]!r}")
    return json.loads(raw)


def _get(url: str, token: str) -> tuple[int, Any]:
    status, raw = _request(url, None, {"Authorization": f"Bearer {token}"}, 30)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


# --- the production profile ---------------------------------------------------------------
# PostgreSQL case and tracker stores, Redis lock store and rate limits, several Sanic workers,
# every process started by scripts/prod.py exactly as `make run-prod` and the images do.

PROD_LAUNCHER = ROOT / "scripts" / "prod.py"
TEST_POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_SERVER", "postgresql://postgres@127.0.0.1:5432")
TEST_REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379/0")


def rasa_python() -> Path:
    return rasa_bin().parent / "python"


def in_rasa(home: Path, script: str, *args: str, timeout: float = 600) -> dict:
    """``script`` run in the Rasa environment with ``args``; the JSON of its last line."""
    run = subprocess.run(
        [str(rasa_python()), "-c", script, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore",
             "PATH": "/usr/bin:/bin", "HOME": str(home),  # Keras writes its settings under HOME
             "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _token(prefix: str) -> str:
    import secrets

    return f"{prefix}-{secrets.token_urlsafe(24)}"


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def _pg_connect(dbname: str = "postgres"):
    import psycopg2
    from urllib.parse import urlsplit

    server = urlsplit(TEST_POSTGRES_SERVER)
    conn = psycopg2.connect(
        host=server.hostname, port=server.port or 5432, user=server.username or "postgres",
        password=server.password or None, dbname=dbname, connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def create_database(name: str) -> str:
    """Create an empty PostgreSQL database; returns its URL on the real server."""
    conn = _pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return f"{TEST_POSTGRES_SERVER}/{name}"


def drop_database(name: str) -> None:
    conn = _pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def query(dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` run directly on a test database (bypassing every process)."""
    conn = _pg_connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def delete_redis_keys(*prefixes: str) -> int:
    import redis

    client = redis.Redis.from_url(TEST_REDIS_SERVER)
    deleted = 0
    try:
        for prefix in prefixes:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                deleted += client.delete(*keys)
    finally:
        client.close()
    return deleted


def with_port(url: str, port: int) -> str:
    """``url`` with its port replaced (to route a client through a fault-injecting proxy)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{parts.hostname}:{port}"
    return parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()


@dataclass
class ProductionStack(Stack):
    """The production profile on the real PostgreSQL and Redis, started by scripts/prod.py.

    ``database``/``tracker_database`` are database names on the test server; the URLs the
    processes use may point elsewhere (a proxy) through ``database_url`` and friends.
    Replicas of the Rasa server are further ``rasa*`` processes sharing both stores.
    """

    database: str = ""
    tracker_database: str = ""
    database_url: str = ""
    tracker_db_url: str = ""
    redis_url: str = TEST_REDIS_SERVER
    key_prefix: str = field(default_factory=lambda: f"xftest{uuid.uuid4().hex[:12]}")
    model: Path | None = None
    rasa_workers: int = 2
    action_workers: int = 2
    # Where the action server reaches the back office (a proxy in the failure tests).
    actions_backoffice_url: str = ""
    rasa_token: str = field(default_factory=lambda: _token("rasa"))
    service_token: str = field(default_factory=lambda: _token("service"))
    jwt_secret: str = field(default_factory=lambda: _token("jwt"))
    rest_channel_token: str = field(default_factory=lambda: _token("rest"))
    replica_ports: dict[str, int] = field(default_factory=dict)
    replica_workers: dict[str, int] = field(default_factory=dict)
    restarts: int = 0

    def __post_init__(self) -> None:
        self.database_url = self.database_url or f"{TEST_POSTGRES_SERVER}/{self.database}"
        self.tracker_db_url = self.tracker_db_url or f"{TEST_POSTGRES_SERVER}/{self.tracker_database}"
        self.secrets = {
            "BACKOFFICE_SERVICE_TOKEN": self.service_token,
            "BACKOFFICE_ENCRYPTION_KEYS": _fernet_key(),
            "BACKOFFICE_HMAC_KEY": _token("hmac"),
            "BACKOFFICE_SESSION_SECRET": _token("session"),
            "ADMIN_PASSWORD": _token("admin"),
            "RASA_TOKEN": self.rasa_token,
            "RASA_JWT_SECRET": self.jwt_secret,
            "REST_CHANNEL_TOKEN": self.rest_channel_token,
            "WEBCHAT_SESSION_SECRET": _token("webchat"),
            "TRACKER_ENCRYPTION_KEYS": _fernet_key(),
            "ACTION_ENDPOINT_TOKEN": _token("actions"),
        }
        self.replica_ports.setdefault("rasa", self.rasa_port)
        self.replica_workers.setdefault("rasa", self.rasa_workers)

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PROD_ENV_FILE"}
        env.update(
            {
                "PROD_ENV_FILE": "",  # never a developer's var/prod.env
                "APP_ENV": "production",
                "PYTHONUNBUFFERED": "1",
                "DATABASE_URL": self.database_url,
                "TRACKER_DB_URL": self.tracker_db_url,
                "REDIS_URL": self.redis_url,
                "RATE_LIMIT_BACKEND": "redis",
                "REDIS_KEY_PREFIX": f"{self.key_prefix}:",
                "LOCK_STORE_KEY_PREFIX": self.key_prefix,
                "BACKOFFICE_HOST": "127.0.0.1",
                "BACKOFFICE_PORT": str(self.backoffice_port),
                "BACKOFFICE_URL": self.actions_backoffice_url or self.backoffice_url,
                "ACTION_SERVER_HOST": "127.0.0.1",
                "ACTION_SERVER_PORT": str(self.action_port),
                "ACTION_SERVER_SANIC_WORKERS": str(self.action_workers),
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.action_port}/webhook",
                "RASA_HOST": "127.0.0.1",
                "RASA_PORT": str(self.rasa_port),
                "RASA_URL": self.rasa_url,
                "SANIC_WORKERS": str(self.rasa_workers),
                "RASA_MODEL": str(self.model or model_path()),
                **self.secrets,
            }
        )
        env.update(self.env)
        return env

    def role_env(self, role: str, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of one process (rasa, actions, backoffice): only its own secrets,
        as each service's env file of the deployment gives it (bot.ops.process_environ)."""
        from bot.ops import process_environ
        from bot.settings import SettingsError

        env = self.process_env() if env is None else env
        try:
            return process_environ(role, env)
        except SettingsError:  # a configuration the launcher must refuse: let it say so
            return env

    # --- life cycle --------------------------------------------------------------------
    def start_backoffice(self) -> None:
        self.start_process("backoffice", [str(app_python()), str(PROD_LAUNCHER), "backoffice"],
                           env=self.role_env("backoffice"))

    def start_actions(self) -> None:
        self.start_process("actions", [str(app_python()), str(PROD_LAUNCHER), "actions"],
                           env=self.role_env("actions"))

    def add_replica(self, name: str, workers: int = 1) -> int:
        """Declare another Rasa server process on its own port (started by start_rasa);
        the one named ``rasa-socketio`` is started as the profile's socket.io server."""
        self.replica_ports[name] = free_port()
        self.replica_workers[name] = 1 if name == "rasa-socketio" else workers
        return self.replica_ports[name]

    def start_rasa(self, extra: list[str] | None = None, name: str | None = None) -> None:
        """Start every Rasa replica (or the one named); ``rasa-socketio`` is the socket.io one."""
        for replica in [name] if name else list(self.replica_ports):
            env = self.process_env()
            port = str(self.replica_ports[replica])
            if replica == "rasa-socketio":
                command = "rasa-socketio"
                env["RASA_SOCKETIO_PORT"] = port
            else:
                command = "rasa"
                env["RASA_PORT"] = port
                env["SANIC_WORKERS"] = str(self.replica_workers[replica])
            self.start_process(replica, [str(rasa_python()), str(PROD_LAUNCHER), command],
                               env=self.role_env("rasa", env))

    def start(self) -> "ProductionStack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_backoffice()
        self.start_actions()
        self.start_rasa()
        self.wait_ready()
        return self

    def readiness_urls(self) -> dict[str, str]:
        urls = {
            "backoffice": f"{self.backoffice_url}/readyz",
            "actions": f"http://127.0.0.1:{self.action_port}/health",
        }
        for name, port in self.replica_ports.items():
            urls[name] = f"http://127.0.0.1:{port}/status?token={self.rasa_token}"
        return urls

    def wait_ready(self, timeout: float = 420) -> None:
        """Every process answers, and every Sanic worker of every Rasa replica has its model."""
        deadline = time.monotonic() + timeout
        pending = {n: u for n, u in self.readiness_urls().items() if n in self.processes}
        while pending:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.popen.returncode}:\n{proc.tail()}")
                workers = self.replica_workers.get(name, 0)
                loaded = proc.tail(100000).count("Rasa server is up and running.") if workers else 0
                if loaded >= workers and _http_ok(url):
                    del pending[name]
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{self.processes[n].tail()}" for n in pending)
                raise RuntimeError(f"not ready after {timeout}s: {sorted(pending)}\n{tails}")
            time.sleep(0.5)

    def kill(self, name: str) -> None:
        """Kill a process and its children at once (SIGKILL: a crash, no clean shutdown)."""
        proc = self.processes[name]
        if proc.popen.poll() is None:
            os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait(timeout=30)

    def restart(self, name: str, *, kill: bool = True) -> None:
        """Stop (kill by default) and start a process again; the old log is kept aside."""
        if kill:
            self.kill(name)
        else:
            self.processes[name].stop()
        self.restarts += 1
        old = self.processes[name].log
        old.rename(old.with_name(f"{name}.before-restart-{self.restarts}.log"))
        if name == "backoffice":
            self.start_backoffice()
        elif name == "actions":
            self.start_actions()
        else:
            self.start_rasa(name=name)
        self.wait_ready()

    def drop_stores(self) -> None:
        for name in (self.database, self.tracker_database):
            if name:
                drop_database(name)
        delete_redis_keys(f"{self.key_prefix}:", f"{self.key_prefix}:lock:")

    # --- talking to it -----------------------------------------------------------------
    def port_of(self, replica: str | None) -> int:
        return self.replica_ports[replica or "rasa"]

    def say(self, sender: str, message: str, timeout: float = 60, replica: str | None = None) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port_of(replica)}/webhooks/rest/webhook"
        return _post_json(url, {"sender": sender, "message": message}, timeout, self.rest_headers())

    def rest_headers(self) -> dict[str, str]:
        """The REST channel of the profile requires its token."""
        return {"Authorization": f"Bearer {self.rest_channel_token}"}

    def post_message(
        self, sender: str, message: Any, replica: str | None = None, raw: bytes | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """Status, JSON body and headers of one REST message (non-200 answers included)."""
        import urllib.error
        import urllib.request

        url = f"http://127.0.0.1:{self.port_of(replica)}/webhooks/rest/webhook"
        data = raw if raw is not None else json.dumps({"sender": sender, "message": message}).encode()
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **self.rest_headers()})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, body, headers = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            status, body, headers = exc.code, exc.read(), dict(exc.headers)
        try:
            return status, json.loads(body), headers
        except ValueError:
            return status, body, headers

    def cases(self, conversation_id: str) -> list[tuple]:
        """``(case_no, id_number_enc, phone_enc)`` of a conversation, read from the raw table."""
        return query(
            self.database,
            "SELECT case_no, id_number_enc, phone_enc FROM cases WHERE conversation_id = %s ORDER BY id",
            (conversation_id,),
        )
