"""What the settings of every process share: where files are, how a variable is read, and the
one production check of secrets.

Only the settings modules read the process environment (``environment()``); every other
module gets its configuration from a settings object loaded once when its process starts.

A secret of a process is refused in production, always in the same words, when it still has
its public development value or is shorter than ``MIN_SECRET_CHARS`` (secrets with a format
of their own, such as Fernet keys, WeChat keys or the staff password, which the console's
password rules check, have no minimum here)::

    refusing to start in production: BACKOFFICE_HMAC_KEY, RASA_TOKEN still have their
    development default; BACKOFFICE_SERVICE_TOKEN is shorter than 16 characters
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# Files are located relative to this module, never to the working directory.
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # bot/
REPO_ROOT = PACKAGE_DIR.parent
VAR_DIR = REPO_ROOT / "var"

ENVIRONMENTS = ("development", "production")
RATE_LIMIT_BACKENDS = ("memory", "redis")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_CHARS = 16

# The rule files every process may point elsewhere (bot/rules/jurisdiction.py, deadlines.py);
# unset means the file shipped in bot/config/.
JURISDICTION_FILE = "JURISDICTION_FILE"
HOLIDAYS_FILE = "HOLIDAYS_FILE"


class SettingsError(ValueError):
    """A configuration problem, reported as one line and the process does not start."""


def environment(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``env``, or the process environment: the only place it is read."""
    return os.environ if env is None else env


def display_url(url: str) -> str:
    """A database URL safe to print: the password is hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported as such, never echoed with secrets
        return "<unparsable database URL>"


# --- reading one variable ---------------------------------------------------------------------


def read_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or "").strip()
    return value or default


def read_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def read_float(env: Mapping[str, str], name: str) -> float | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def read_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = read_str(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def read_http_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = read_str(env, name, default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value


def read_path(env: Mapping[str, str], name: str) -> Path | None:
    """An optional file; a relative path is taken from the repository root."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw)
    return path if path.is_absolute() else REPO_ROOT / path


def read_fernet_keys(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of Fernet keys (the first encrypts, all decrypt), each checked
    for its format: 32 url-safe base64-encoded bytes."""
    import base64
    import binascii

    raw = (env.get(name) or "").strip()
    keys = tuple(k.strip() for k in raw.split(",") if k.strip()) or (default,)
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, UnicodeEncodeError, ValueError):
            valid = False
        if not valid:
            raise SettingsError(
                f"{name}: key {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)"
            )
    return keys


def read_log_level(env: Mapping[str, str]) -> str:
    level = read_str(env, "LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    return level


# --- the production check ---------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """One secret as the production check sees it: its variable, its value(s) (a key list
    has several, none when an optional secret is unset) and its public development value."""

    variable: str
    values: tuple[str, ...]
    development: str = ""
    min_chars: int = MIN_SECRET_CHARS  # 0: a format of its own, checked where it is read

    def __repr__(self) -> str:  # never the value
        return f"Secret({self.variable})"


# The mark of the placeholders in deploy/*.env.example and deploy/kubernetes/secret-*.yaml: a
# value that still holds it was copied without being replaced (and is public).
PLACEHOLDER_MARK = "CHANGE-ME"


def secret_problems(secrets: Iterable[Secret]) -> list[str]:
    """What is wrong with ``secrets`` for production, in the one wording every process uses."""
    secrets = list(secrets)
    still_dev = [s.variable for s in secrets if s.development and s.development in s.values]
    placeholders = [s.variable for s in secrets if s.variable not in still_dev
                    and any(PLACEHOLDER_MARK.lower() in value.lower() for value in s.values)]
    problems = []
    if still_dev:
        verb = " still has its" if len(still_dev) == 1 else " still have their"
        problems.append(", ".join(still_dev) + verb + " development default")
    if placeholders:
        verb = " still holds the" if len(placeholders) == 1 else " still hold the"
        problems.append(", ".join(placeholders) + verb + f" example's placeholder ({PLACEHOLDER_MARK})")
    for secret in secrets:
        if secret.variable in still_dev or secret.variable in placeholders or not secret.min_chars:
            continue
        if any(len(value) < secret.min_chars for value in secret.values):
            problems.append(f"{secret.variable} is shorter than {secret.min_chars} characters")
    return problems


def refusal(problems: Iterable[str], process: str | None = None) -> str:
    """The one-line refusal: ``refusing to start in production: …`` (or ``refusing to start
    the production <process>: …`` when the launcher names the process)."""
    where = f"the production {process}" if process else "in production"
    return f"refusing to start {where}: " + "; ".join(problems)


class ProcessSettings:
    """The part every process's settings class has: the environment and the production check.

    A subclass (a frozen dataclass with an ``app_env`` field) lists its secrets in
    ``secrets()``.
    """

    app_env: str

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def secrets(self) -> list[Secret]:
        return []

    def production_problems(self) -> list[str]:
        """What keeps this process from starting in production (empty: nothing)."""
        return secret_problems(self.secrets())

    def check_production(self) -> None:
        """With ``APP_ENV=production``, refuse development or too short secrets (one line)."""
        if self.is_production:
            problems = self.production_problems()
            if problems:
                raise SettingsError(refusal(problems))
