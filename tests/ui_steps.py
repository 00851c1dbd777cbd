"""Browser steps the Playwright walk-throughs share (log in and out through the real forms)."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

PASSWORD = "demo-2026"


async def login(page: Page, email: str) -> None:
    await page.goto("/login")
    form = page.locator("form[action='/login']")
    await form.locator("input[name=email]").fill(email)
    await form.locator("input[name=password]").fill(PASSWORD)
    await form.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


async def logout(page: Page) -> None:
    await page.locator("header").get_by_role("button", name="退出").click()
    await expect(page.locator("main").get_by_role("link", name="登录")).to_be_visible()


async def nav(page: Page, name: str) -> None:
    """Follow a link of the top bar by its label, opening the phone menu and the dropdown group
    that hold it, as a person would."""
    header = page.locator("header")
    button = header.locator(".menu-button")
    if await button.is_visible() and await header.locator("details.menu[open]").count() == 0:
        await button.click()
    link = header.get_by_role("link", name=name, exact=True)
    if not await link.is_visible():
        # `has` is queried inside each group; the link is hidden until its group opens
        inner = page.get_by_role("link", name=name, exact=True, include_hidden=True)
        await header.locator("details.navgroup").filter(has=inner).locator("summary").click()
    await link.click()
