"""Log in as every demo role through the real UI, in Chinese by default; wrong password; language switch;
logout; the regulator verifies the audit chain."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.async_api import Page, expect

PASSWORD = "demo-2026"
BRAND_ZH = "公共数据授权运营交易平台"

# (e-mail, role, display name)
ROLES = [
    ("holder@demo.cn", "holder", "张明"),
    ("buyer@demo.cn", "buyer", "李娜"),
    ("operator@demo.cn", "operator", "王强"),
    ("agency@demo.cn", "agency", "陈静"),
    ("regulator@demo.cn", "regulator", "刘洋"),
    ("admin@demo.cn", "admin", "赵磊"),
]

def _path(page: Page) -> str:
    return urlparse(page.url).path


async def _open_login_form(page: Page) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.locator("main").get_by_role("link", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()


async def _submit_login(page: Page, email: str, password: str) -> None:
    form = page.locator("form[action='/login']")
    await form.locator("input[name=email]").fill(email)
    await form.locator("input[name=password]").fill(password)
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state("load")


async def _login(page: Page, email: str) -> None:
    await _open_login_form(page)
    await _submit_login(page, email, PASSWORD)
    assert _path(page) == "/", f"login as {email} did not land on the home page: {page.url}"


@pytest.mark.parametrize(("email", "role", "name"), ROLES, ids=[r[1] for r in ROLES])
async def test_each_role_logs_in_and_sees_its_home_in_chinese(page: Page, tmp_path, email, role, name):
    await _login(page, email)
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("main h1")).to_contain_text(f"欢迎，{name}")
    await expect(page.locator(f'.role-card[data-role="{role}"]')).to_be_visible()
    await expect(page.locator("header .brand")).to_have_text(BRAND_ZH)
    await expect(page.locator("header .who")).to_contain_text(name)
    if role == ROLES[0][1]:
        shot = tmp_path / f"home-{role}.png"
        await page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


async def test_wrong_password_shows_chinese_error_and_stays_on_login(page: Page):
    await _open_login_form(page)
    await _submit_login(page, "agency@demo.cn", "not-the-password")
    await expect(page.get_by_text("邮箱或密码错误")).to_be_visible()
    assert _path(page) == "/login"
    await expect(page.locator("form[action='/login'] input[name=password]")).to_be_visible()
    await expect(page.locator("form[action='/login'] input[name=email]")).to_have_value("agency@demo.cn")
    await expect(page.locator(".role-card")).to_have_count(0)


async def test_language_switch_to_english_and_back(page: Page):
    await _login(page, "buyer@demo.cn")
    brand = page.locator("header .brand")
    await expect(brand).to_have_text(BRAND_ZH)

    await page.locator("header").get_by_role("link", name="English", exact=True).click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _path(page) == "/"
    await expect(brand).not_to_have_text(BRAND_ZH)
    await expect(page.locator("header").get_by_role("link", name="中文", exact=True)).to_be_visible()
    await expect(page.locator('.role-card[data-role="buyer"]')).to_be_visible()

    await page.locator("header").get_by_role("link", name="中文", exact=True).click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(brand).to_have_text(BRAND_ZH)
    await expect(page.locator("main h1")).to_contain_text("欢迎，李娜")
    await expect(page.locator("header").get_by_role("link", name="English", exact=True)).to_be_visible()


async def test_logout_returns_to_landing_and_protects_pages(page: Page):
    await _login(page, "holder@demo.cn")
    await page.locator("header").get_by_role("button", name="退出").click()
    await page.wait_for_load_state("load")
    assert _path(page) == "/"
    await expect(page.locator("header").get_by_role("link", name="登录")).to_be_visible()
    await expect(page.locator(".role-card")).to_have_count(0)
    await expect(page.locator("header .who")).to_have_count(0)

    await page.goto("/account/api-keys")
    assert _path(page) == "/login", page.url
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()


async def test_regulator_verifies_the_audit_chain(page: Page):
    await _login(page, "regulator@demo.cn")
    await page.goto("/audit?check=1")
    assert _path(page) == "/audit"
    await expect(page.locator("[data-testid=chain-ok]")).to_be_visible()
    await expect(page.locator("[data-testid=chain-broken]")).to_have_count(0)
    await expect(page.locator("table.audit tbody tr").first).to_be_visible()
