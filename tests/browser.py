"""Pages opened in Debian's chromium through Playwright, with everything that went wrong recorded.

Shared by the browser tests of the gc, run-report and profile pages. A test is skipped, saying why, only
when chromium or playwright is missing (`make test` installs chromium with apt-get).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = "<script>alert(1)</script>"


@dataclass
class Watched:
    page: Page
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextmanager
def watched_page(page_file: Path, viewport: dict[str, int] | None = None) -> Iterator[Watched]:
    """The page loaded in chromium; console errors and warnings, page errors, any request for something
    other than the page itself, and dialogs (dismissed) are recorded in the yielded Watched."""
    if not CHROMIUM.is_file():
        pytest.skip(
            "Debian chromium is not installed at /usr/bin/chromium (make test installs it with apt-get)"
        )
    api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport=viewport) if viewport else browser.new_page()
            page.set_default_timeout(120_000)  # a hang guard, far beyond a busy machine
            watched = Watched(page)

            def on_dialog(dialog: Dialog) -> None:
                watched.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on(
                "console",
                lambda message: (
                    watched.problems.append(f"{message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
            page.on(
                "request",
                lambda request: (
                    watched.problems.append(f"request: {request.url}")
                    if request.url != page_file.as_uri() and not request.url.startswith("data:")
                    else None
                ),
            )
            page.on(
                "requestfailed", lambda request: watched.problems.append(f"request failed: {request.url}")
            )
            page.on("dialog", on_dialog)
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            yield watched
        finally:
            browser.close()
