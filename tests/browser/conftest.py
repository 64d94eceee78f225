"""Headless Chromium (Debian's) driven by Playwright, for the tests in this folder."""

import pytest

CHROMIUM = "/usr/bin/chromium"
HUMAN = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
# The user agent is set for the whole browser too: a beacon sent as a page unloads leaves
# without the page's override, and "HeadlessChrome" would be filtered out as a robot.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-agent={HUMAN}"]


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def log_in(page, base_url: str, email: str, password: str = "pw-12345!") -> None:
    """Sign in through Oscar's login form, as a person would (``make_staff``'s password by default)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("[name=login-username]", email)
    page.fill("[name=login-password]", password)
    page.click("button[name=login_submit]")
    page.wait_for_load_state()
