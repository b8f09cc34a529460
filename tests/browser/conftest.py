"""Headless Chromium (Debian's package and its chromedriver) against a console on the embedded stack.

Where Chromium, its driver or selenium is missing the browser tests skip with the reason; with
``BREAKWATER_REQUIRE_ALL=1`` (tests/requirements.py) they fail instead, so CI never passes by skipping them
(``make browser`` installs them on Debian; ``BREAKWATER_CHROMIUM`` and ``BREAKWATER_CHROMEDRIVER`` name others).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from breakwater.aws import Stack, Target
from breakwater.console import ConsoleApp, ConsoleServer, Settings
from breakwater.executions import ExecutionResult, start
from breakwater.local.stack import EmbeddedStack
from breakwater.template import PROJECT_ROOT
from tests.requirements import unavailable

CHROMIUM = Path(os.environ.get("BREAKWATER_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BREAKWATER_CHROMEDRIVER", "/usr/bin/chromedriver"))
ARTIFACTS = PROJECT_ROOT / "test-results" / "browser"
# Chromium resolves this name to 127.0.0.1 (--host-resolver-rules): what a DNS rebinding attack looks like.
REBIND_HOST = "rebind.test"
WAIT_SECONDS = 15.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--window-size=1440,1000",
    f"--host-resolver-rules=MAP {REBIND_HOST} 127.0.0.1",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _selenium_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -c constraints.txt -r requirements-dev.txt)"
    return None


def require_selenium() -> None:
    """At the top of a browser test module: skip it without selenium (BREAKWATER_REQUIRE_ALL=1: fail)."""
    reason = _selenium_missing()
    if reason is not None:
        unavailable(reason, allow_module_level=True)


def _missing() -> str | None:
    reason = _selenium_missing()
    if reason is not None:
        return reason
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} not found: install Debian's {package} (make browser)"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session, with a new empty profile."""
    reason = _missing()
    if reason is not None:
        unavailable(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # The driver's path is explicit: Selenium Manager never runs, so nothing is downloaded.
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(ARTIFACTS / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Console:
    """A console on its own server over a fresh stack of the embedded local stack."""

    env: EmbeddedStack
    stack: Stack
    app: ConsoleApp
    url: str

    def run(self, order: Any, timeout: float = 60.0) -> ExecutionResult:
        return self.env.run(self.stack, order, timeout=timeout)

    def start(self, order: Any) -> str:
        return start(self.env.client("stepfunctions"), self.stack.state_machine_arn, order)

    def page(self, path: str = "/") -> str:
        return self.url + path


def serve_console(env: EmbeddedStack, stack: Stack, **settings: Any) -> tuple[ConsoleServer, Console]:
    settings.setdefault("provider_url", env.provider.url)
    settings.setdefault("local_stack", True)
    settings.setdefault("label", "the embedded local stack")
    app = ConsoleApp(Settings(target=Target(region=env.region), stack_name=stack.name, **settings))
    server = ConsoleServer(app, port=0).start()
    return server, Console(env=env, stack=stack, app=app, url=server.url)


@pytest.fixture
def console(embedded: EmbeddedStack, provider: Any) -> Iterator[Console]:
    """A new stack (its own breaker table and executions) and a console over it."""
    server, served = serve_console(embedded, embedded.deploy())
    try:
        yield served
    finally:
        server.stop()


@pytest.fixture
def screenshot(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Path]]:
    """Save the page as test-results/browser/<test>-<name>.png; a failing test's last page is saved too."""
    test = request.node.name.replace("[", "-").replace("]", "")

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{test}-{name}.png"
        browser.save_screenshot(str(path))
        return path

    yield save
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save("failed")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def copy_to_docs(path: Path, name: str) -> None:
    """With BREAKWATER_DOCS_SCREENSHOTS=1, refresh the picture docs/NAME from this test run."""
    if os.environ.get("BREAKWATER_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(path, PROJECT_ROOT / "docs" / name)
