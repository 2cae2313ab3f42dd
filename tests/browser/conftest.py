"""Browser tests: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against
the real processes (Rasa, action server, back office) started once for this directory.

Screenshots go to test-artifacts/browser/ (git-ignored); the processes' logs to
test-artifacts/browser-console/.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.stack import ARTIFACTS, Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ARTIFACTS / "browser"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "browser-admin-password"


@pytest.fixture(scope="package")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa + actions + back office on SQLite, with the first administrator from the settings."""
    running = Stack(
        name="browser-console",
        workdir=tmp_path_factory.mktemp("browser-console"),
        env={"ADMIN_USERNAME": ADMIN_USERNAME, "ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Browser:
    """One browser tab on the back office, collecting console errors and failed requests."""

    page: Any
    stack: Stack
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.stack.backoffice_url + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))

    def login(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
        self.goto("/console/")
        assert "/console/login" in self.page.url  # anonymous: sent to the login page
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        self.page.wait_for_url(self.url("/console/"))

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def flash(self) -> str:
        return self.page.inner_text("#flash")


@pytest.fixture
def tab(browser, console_stack) -> Iterator[Browser]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20000)
    tab = Browser(page, console_stack)
    page.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("response", lambda r: tab.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    try:
        yield tab
    finally:
        context.close()


def service_post(stack: Stack, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST to the back office API with the action server's token."""
    request = urllib.request.Request(
        f"{stack.backoffice_url}/api/v1{path}",
        data=json.dumps(body).encode("utf-8"),
        headers={"Authorization": f"Bearer {stack.service_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def bot_events(stack: Stack, sender: str) -> list[dict[str, Any]]:
    return [e for e in stack.tracker(sender)["events"] if e.get("event") == "bot"]
