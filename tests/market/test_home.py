"""The home-panel registry: packages above market hand it their panels through the composition root;
a caller sees only the panels of its roles."""

from __future__ import annotations

import pytest

from market import home
from market.identity import Principal


def _principal(*roles: str) -> Principal:
    return Principal(user_id=1, email="a@example.cn", display_name="甲", org_id=7, org_name="测试机构",
                     org_verification="verified", roles=frozenset(roles), via="session", credential_id=1)


async def test_panels_follow_the_callers_roles():
    seen = []

    async def provider(principal):
        seen.append(principal.org_id)
        return [home.Item("things", "待办事项", 3, "/things")]

    panels = home.HomePanels()
    panels.register(key="holder", title="持有方", roles=("holder", "operator"), provider=provider)
    with pytest.raises(ValueError):
        panels.register(key="holder", title="again", roles=("buyer",), provider=provider)
    assert await panels.for_principal(_principal("buyer")) == []
    [(panel, items)] = await panels.for_principal(_principal("operator", "holder"))
    assert panel.key == "holder" and items[0].count == 3 and seen == [7]


def test_the_app_registers_every_package_panel(app):
    assert app.state.home_panels.keys() == ["holder", "buyer", "review", "caps", "platform", "oversight"]
