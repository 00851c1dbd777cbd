"""The page fits the screen for every demo role: on a desktop (1280 and 1024 px, in Chinese and in
English) the top bar is one line and no label wraps; on a 390 px phone the bar is one short row with
a 菜单 button, the search facets are folded, and no page scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from ui_steps import login, nav

ROLES = ["holder", "buyer", "operator", "agency", "regulator", "admin"]
DESKTOP = [1280, 1024]
PHONE = 390
# main pages; a role that may not open one gets the error page, which must fit as well
PAGES = ["/", "/search?q=公交", "LISTING", "/my/data", "/review", "/audit", "/catalogue", "/fund", "/fund/proposals"]
ONE_ROW_PX = 64  # a single row of the bar: 1.6 line-height text plus padding; two rows are > 80
PHONE_BAR_PX = 100  # the bar must leave the phone's first screen (844 px) to the page

_MEASURE = """() => {
  const header = document.querySelector('header');
  const labels = [...header.querySelectorAll(
    '.brand, .mainnav > a, .mainnav > details > summary, .account > a, .account > details > summary, .account button')]
    .filter(el => el.offsetParent !== null)
    .map(el => { const r = el.getBoundingClientRect(); return {text: el.textContent.trim(), top: r.top, h: r.height}; });
  return {header: header.getBoundingClientRect().height, labels,
          scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth};
}"""


async def _listing_path(page: Page) -> str:
    await page.goto("/search?q=公交")
    href = await page.locator(".card h2 a").first.get_attribute("href")
    assert href and href.startswith("/listings/")
    return href


async def _check_page(page: Page, path: str, width: int, lang: str, failures: list[str]) -> None:
    await page.goto(path)
    m = await page.evaluate(_MEASURE)
    where = f"{lang} {width}px {path}"
    if m["scrollWidth"] > m["clientWidth"]:
        failures.append(f"{where}: page scrolls sideways ({m['scrollWidth']} > {m['clientWidth']})")
    if width >= 1024:
        if m["header"] > ONE_ROW_PX:
            failures.append(f"{where}: top bar is {m['header']:.0f}px high (> one row, {ONE_ROW_PX}px)")
        nav_labels = m["labels"][1:]  # the brand may take two short lines in English
        tops = {round(lb["top"]) for lb in nav_labels}
        if max(tops) - min(tops) > 4:
            failures.append(f"{where}: top bar items on more than one line: {nav_labels}")
        wrapped = [lb["text"] for lb in nav_labels if lb["h"] > 36]
        if wrapped:
            failures.append(f"{where}: labels wrap inside: {wrapped}")
    elif m["header"] > PHONE_BAR_PX:
        failures.append(f"{where}: top bar is {m['header']:.0f}px high on a phone (> {PHONE_BAR_PX}px)")


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_fits_desktop_and_phone(page: Page, role):
    await login(page, f"{role}@demo.cn")
    paths = [await _listing_path(page) if p == "LISTING" else p for p in PAGES]
    failures: list[str] = []
    for width in [*DESKTOP, PHONE]:
        await page.set_viewport_size({"width": width, "height": 844 if width == PHONE else 800})
        for path in paths:
            await _check_page(page, path, width, "zh", failures)
    # English labels are longer: the bar must still fit at the narrowest desktop width
    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.goto("/lang/en?next=/")
    try:
        for path in paths:
            await _check_page(page, path, 1024, "en", failures)
    finally:
        await page.goto("/lang/zh?next=/")
    assert not failures, "\n".join(failures)


async def test_phone_menu_button_and_folded_facets(page: Page, tmp_path):
    await page.set_viewport_size({"width": PHONE, "height": 844})
    await login(page, "holder@demo.cn")
    header = page.locator("header")
    await expect(header.locator(".menu-button")).to_be_visible()
    await expect(header.get_by_role("link", name="找数据", exact=True)).to_be_hidden()
    await header.locator(".menu-button").click()
    await expect(header.get_by_role("link", name="找数据", exact=True)).to_be_visible()
    await page.screenshot(path=str(tmp_path / "phone-menu.png"))

    await nav(page, "数据使用方")  # inside the 我的数据 group of the menu
    await expect(page).to_have_url(re.compile(r"/my/requests$"))

    await page.goto("/search?q=公交")
    facets = page.locator("details.facets")
    await expect(facets.locator("summary")).to_be_visible()
    await expect(facets.locator("aside")).to_be_hidden()  # folded: the results come first
    await expect(page.locator(".card").first).to_be_in_viewport()
    await facets.locator("summary").click()
    await expect(facets.get_by_role("link").first).to_be_visible()

    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/search?q=公交")
    await expect(header.locator(".menu-button")).to_be_hidden()
    await expect(header.get_by_role("link", name="找数据", exact=True)).to_be_visible()
    await expect(page.locator("details.facets summary")).to_be_hidden()
    await expect(page.locator("details.facets aside").get_by_role("link").first).to_be_visible()


async def test_desktop_dropdown_opens_one_group_at_a_time(page: Page):
    await page.set_viewport_size({"width": 1024, "height": 800})
    await login(page, "operator@demo.cn")
    header = page.locator("header")
    data_group, trade_group = header.locator("details[data-group=data]"), header.locator("details[data-group=trade]")
    await data_group.locator("summary").click()
    await expect(data_group.get_by_role("link", name="上传数据表")).to_be_visible()
    await trade_group.locator("summary").click()
    await expect(trade_group.get_by_role("link", name="需求广场")).to_be_visible()
    await expect(data_group.get_by_role("link", name="上传数据表")).to_be_hidden()
    await page.locator("main h1").click()  # a click elsewhere closes it
    await expect(trade_group.get_by_role("link", name="需求广场")).to_be_hidden()
