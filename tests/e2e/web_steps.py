"""Steps the browser tests share: a logged-in page, waiting for a page to show a state, screenshots."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from mall_shared.testing import eventually

ROOT = Path(__file__).resolve().parents[2]
ZH = json.loads((ROOT / "web" / "web" / "zh.json").read_text(encoding="utf-8"))
# MALL_SCREENSHOTS=docs/screenshots (scripts/web_screenshots.sh) saves the main pages as PNGs.
SHOTS = os.environ.get("MALL_SCREENSHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def log_in(page: Page, gateway: str, email: str, password: str) -> None:
    page.goto(gateway + "/login")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].primary")
    expect(page.locator(".flash.error")).to_have_count(0)


def to_english(page: Page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def reload_until(page: Page, selector: str, text: str, timeout: float = 30) -> None:
    """Reload until `selector` shows `text` (the page is server-rendered; the bus settles in the background)."""
    def shows():
        page.reload()
        return text in (page.locator(selector).first.text_content(timeout=2000) or "")
    eventually(shows, timeout=timeout, interval=0.3)


def order_id_from(page: Page) -> str:
    return re.search(r"/orders/([0-9a-f-]{36})", page.url).group(1)
