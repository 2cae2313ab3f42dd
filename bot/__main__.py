"""Command line of the back office.

python -m bot migrate             upgrade DATABASE_URL to the newest schema (Alembic)
python -m bot serve               run the back office on BACKOFFICE_HOST:BACKOFFICE_PORT
python -m bot print-dev-settings  show where things run and the development credentials
python -m bot create-admin        create a console administrator (ADMIN_USERNAME/ADMIN_PASSWORD,
                                  or --username and a password from --password-stdin or a prompt)
python -m bot create-user --username NAME --role officer|supervisor|admin [--display-name 姓名]
python -m bot set-password --username NAME    new password (stdin or prompt); ends its sessions
python -m bot unlock-user --username NAME     lift a login lock-out
python -m bot purge [--every SECONDS]  anonymise cases past the retention period, delete their
                                  and old unfiled conversations (README "Retention enforced");
                                  --every repeats it (the production profile runs it daily)
python -m bot report --month YYYY-MM [--out PATH]  the month's 信访形势分析 as a Word document
                                  (default var/reports/xinfang-monthly-YYYY-MM.docx)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import DEV_SECRETS, Settings, SettingsError, display_url, load_settings

log = logging.getLogger("bot")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic announces its plugins on every schema check; only its warnings matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


async def _wait_and_check_schema(settings: Settings) -> None:
    from bot.store.db import make_engine, wait_for_database
    from bot.store.migrate import current_revision, head_revision

    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await wait_for_database(engine)
        current, head = await current_revision(engine), head_revision()
        if current != head:
            log.warning(
                "database schema is at revision %s, the code expects %s: "
                "run `python -m bot migrate`",
                current,
                head,
            )
    finally:
        await engine.dispose()


def cmd_migrate(settings: Settings) -> None:
    from bot.store.crypto import Crypto
    from bot.store.db import make_engine, make_sessionmaker, wait_for_database
    from bot.store.migrate import current_revision, upgrade_engine
    from bot.store.repeats import backfill_phone_index

    async def run() -> str | None:
        engine = make_engine(settings.database_url, schema=settings.database_schema)
        try:
            await wait_for_database(engine)
            await upgrade_engine(engine, schema=settings.database_schema)
            # Cases filed before the phone number had a blind index get one (repeat petitions).
            async with make_sessionmaker(engine)() as session:
                filled = await backfill_phone_index(
                    session, Crypto(settings.encryption_keys, settings.hmac_key))
                await session.commit()
            if filled:
                log.info("phone number index filled for %d earlier cases", filled)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    log.info("database %s is at revision %s", display_url(settings.database_url), revision)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_serve(settings: Settings) -> None:
    settings.check_production()
    # The development defaults (tokens, first staff password) are public: outside production
    # the back office is reachable from this machine only.
    if not settings.is_production and not _is_loopback(settings.backoffice_host):
        raise SettingsError(
            f"refusing to listen on BACKOFFICE_HOST={settings.backoffice_host or '(all)'} outside "
            "production: the development secrets are public; use 127.0.0.1, or APP_ENV=production "
            "with real secrets"
        )

    from aiohttp import web

    from bot.app import RUNNER_OPTIONS, init_app

    async def start() -> web.Application:
        from bot.console.views.auth import bootstrap_first_admin

        await _wait_and_check_schema(settings)
        app = await init_app(settings)
        app.on_startup.append(bootstrap_first_admin)  # after the database is opened
        return app

    log.info(
        "back office starting on http://%s:%s (%s, database %s)",
        settings.backoffice_host,
        settings.backoffice_port,
        settings.app_env,
        display_url(settings.database_url),
    )
    web.run_app(
        start(),
        host=settings.backoffice_host,
        port=settings.backoffice_port,
        **RUNNER_OPTIONS,
        print=lambda message: log.info("%s", message.strip()),
    )


def cmd_print_dev_settings(settings: Settings) -> None:
    """Where everything runs; development secrets only (a real secret is never printed)."""
    print(f"Back office:   {settings.backoffice_url}  (console and /api/v1)")
    print(f"Staff console: {settings.backoffice_url}/console/")
    print(f"Rasa server:   {settings.rasa_url}")
    print(f"Case database: {display_url(settings.database_url)}")
    dev = set(settings.secrets_with_dev_defaults())
    shown = []
    if "BACKOFFICE_SERVICE_TOKEN" in dev:
        shown.append(f"  BACKOFFICE_SERVICE_TOKEN={DEV_SECRETS['BACKOFFICE_SERVICE_TOKEN']}")
    if "ADMIN_PASSWORD" in dev:
        shown.append(
            f"  staff login: ADMIN_USERNAME={settings.admin_username} "
            f"ADMIN_PASSWORD={DEV_SECRETS['ADMIN_PASSWORD']}"
        )
    if dev:
        print("Development defaults in use (set these environment variables to change them):")
        for line in shown:
            print(line)
        print("  also default: " + ", ".join(sorted(dev)))
        print("APP_ENV=production refuses to start while any of them is a development default.")


def use_rule_files(settings: Settings) -> None:
    """Point the rules at the jurisdiction and holidays files of the settings (once, at start)."""
    from bot.rules import deadlines, jurisdiction

    jurisdiction.use_file(settings.jurisdiction_file)
    deadlines.use_holidays_file(settings.holidays_file)


class CommandError(Exception):
    """A user command that cannot be done (one line, exit status 1)."""


class UsageError(Exception):
    """A command given wrong arguments (one line, exit status 2)."""


def _password(args: argparse.Namespace, default: str | None = None) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if default:
        return default
    import getpass

    first = getpass.getpass("新密码 / new password: ")
    if first != getpass.getpass("再次输入 / again: "):
        raise CommandError("the two passwords differ")
    return first


def _with_users(settings: Settings, work) -> None:
    """Run ``work(session, now)`` against the case store and commit."""
    from datetime import datetime, timezone

    from bot.store.db import make_engine, make_sessionmaker

    async def run() -> None:
        engine = make_engine(settings.database_url, schema=settings.database_schema)
        try:
            async with make_sessionmaker(engine)() as session:
                await work(session, datetime.now(timezone.utc))
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


def _create(settings: Settings, username: str, password: str, role: str, display: str) -> None:
    from bot.store import users

    async def work(session, now) -> None:
        try:
            user = await users.create_user(
                session, username=username, password=password, role=role, display_name=display, now=now
            )
        except users.AccountError as exc:
            raise CommandError(exc.message) from None
        print(f"created {user.role} account {user.username} ({user.unit})")

    _with_users(settings, work)


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> None:
    """The first administrator; from ADMIN_USERNAME/ADMIN_PASSWORD unless given otherwise."""
    settings.check_production()
    username = args.username or settings.admin_username
    default = settings.admin_password if not args.username else None
    _create(settings, username, _password(args, default), "admin", args.display_name or "系统管理员")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    if not args.username or not args.role:
        raise CommandError("create-user needs --username and --role (officer, supervisor or admin)")
    _create(settings, args.username, _password(args), args.role, args.display_name or "")


def cmd_set_password(settings: Settings, args: argparse.Namespace) -> None:
    from bot.store import users

    if not args.username:
        raise CommandError("set-password needs --username")
    password = _password(args)

    async def work(session, now) -> None:
        user = await users.get_user_by_name(session, args.username)
        if user is None:
            raise CommandError(f"no account named {args.username!r}")
        try:
            await users.set_password(session, user, password, now)
        except users.AccountError as exc:
            raise CommandError(exc.message) from None
        print(f"password of {user.username} changed; its console sessions are closed")

    _with_users(settings, work)


def cmd_unlock_user(settings: Settings, args: argparse.Namespace) -> None:
    from bot.store import users

    if not args.username:
        raise CommandError("unlock-user needs --username")

    async def work(session, now) -> None:
        await users.record_attempt(session, args.username, users.OUTCOME_UNLOCK, remote="cli", now=now)
        print(f"login lock-out of {users.normalize_username(args.username)} lifted")

    _with_users(settings, work)


def cmd_purge(settings: Settings, args: argparse.Namespace) -> None:
    """Apply the retention rules (bot/store/retention.py) and print the counts; with
    ``--every`` again after that many seconds, until stopped (a failed run is logged and
    retried at the next one)."""
    from datetime import datetime, timezone

    from bot.rules.jurisdiction import load_jurisdiction
    from bot.store.db import make_engine, make_sessionmaker, wait_for_database
    from bot.store.retention import make_tracker_writer, purge

    rules = load_jurisdiction()
    years, days = rules.data_retention_years, rules.unfiled_conversation_days
    if years < 1 or days < 1:
        raise CommandError(
            "data_retention_years and unfiled_conversation_days must be set in the jurisdiction file"
        )

    async def run():
        engine = make_engine(settings.database_url, schema=settings.database_schema)
        tracker = make_tracker_writer(settings.tracker_db_url, settings.tracker_db_schema)
        try:
            await wait_for_database(engine)
            async with make_sessionmaker(engine)() as session:
                report = await purge(
                    session,
                    tracker,
                    now=datetime.now(timezone.utc),
                    retention_years=years,
                    unfiled_days=days,
                )
                await session.commit()
                return report
        finally:
            await engine.dispose()
            if tracker is not None:
                await tracker.dispose()

    if not args.every:
        report = asyncio.run(run())
        for key, value in report.as_dict().items():
            print(f"{key}: {value}")
        return
    import time

    while True:
        try:
            log.info("retention purge done: %s", asyncio.run(run()).as_dict())
        except Exception:
            log.exception("retention purge failed; retrying at the next run")
        time.sleep(args.every)


REPORTS_DIR = "var/reports"


async def write_monthly_report(settings: Settings, month: str, out: str | None = None, *,
                               today=None) -> str:
    """Write the month's 信访形势分析 (bot/store/monthly_report.py) covering every unit;
    returns the path written. ``UsageError`` for a month that is not ``YYYY-MM`` or has not
    begun. ``today`` (a date) is for tests; default: today in Asia/Shanghai."""
    from pathlib import Path

    from bot.rules.deadlines import today_local
    from bot.rules.jurisdiction import load_jurisdiction
    from bot.store import monthly_report
    from bot.store.db import make_engine, make_sessionmaker, wait_for_database

    today = today or today_local()
    try:
        first = monthly_report.parse_month(month, today)
    except monthly_report.MonthError as exc:
        raise UsageError(f"{exc.message} / {exc.english}") from None
    path = Path(out) if out else Path(REPORTS_DIR) / monthly_report.default_filename(first)
    jurisdiction = load_jurisdiction()

    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await wait_for_database(engine)
        async with make_sessionmaker(engine)() as session:
            _, body = await monthly_report.build(
                session, first, today=today, region=jurisdiction.short_name,
                agency=jurisdiction.agency, due_soon_days=settings.due_soon_days)
    finally:
        await engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return str(path)


def cmd_report(settings: Settings, args: argparse.Namespace) -> None:
    if not args.month:
        raise UsageError("report needs --month YYYY-MM / 请用 --month 指定月份，如 2026-11")
    print(asyncio.run(write_monthly_report(settings, args.month, args.out)))


COMMANDS = {
    "migrate": cmd_migrate,
    "serve": cmd_serve,
    "print-dev-settings": cmd_print_dev_settings,
}
USER_COMMANDS = {
    "create-admin": cmd_create_admin,
    "create-user": cmd_create_user,
    "set-password": cmd_set_password,
    "unlock-user": cmd_unlock_user,
    "purge": cmd_purge,
    "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Petition back office.")
    parser.add_argument("command", choices=sorted({*COMMANDS, *USER_COMMANDS}))
    parser.add_argument("--username", help="console account (user commands)")
    parser.add_argument("--role", choices=("officer", "supervisor", "admin"), help="create-user")
    parser.add_argument("--display-name", help="the name shown in the console")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    parser.add_argument("--every", type=int, metavar="SECONDS", help="purge: repeat every SECONDS")
    parser.add_argument("--month", metavar="YYYY-MM", help="report: the month")
    parser.add_argument("--out", metavar="PATH", help="report: where to write the .docx")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        use_rule_files(settings)
        if args.command in USER_COMMANDS:
            USER_COMMANDS[args.command](settings, args)
        else:
            COMMANDS[args.command](settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
