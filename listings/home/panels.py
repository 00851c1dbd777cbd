"""The catalogue's panels on the home page (工作台): the service's counts as items with their pages.
Registered by the composition root (market.app) into market.home.HomePanels."""

from __future__ import annotations

from listings import service
from market.home import HomePanels, Item
from market.i18n import N_
from market.identity import Principal


async def holder_items(principal: Principal) -> list[Item]:
    todo = await service.holder_todo(org_id=principal.org_id)
    ex = todo["examples"]
    return [
        Item("confirm", N_("待确认上架（含草稿、被驳回）"), todo["confirm"], "/my/data",
             tuple((r["title"], f"/my/data/{r['id']}/confirm") for r in ex["unconfirmed"])),
        Item("review", N_("审核中或公示中的上架"), todo["review"], "/my/data",
             tuple((r["title"], f"/listings/{r['id']}") for r in ex["review"])),
        Item("overdue", N_("逾期未更新的数据"), todo["overdue"], "/my/data",
             tuple((r["title"], f"/my/data/upload?asset={r['asset']}") for r in ex["overdue"])),
        Item("demands", N_("匹配到我的数据的需求"), todo["demands"], "/demands"),
        Item("downloads", N_("近 30 天数据被下载次数"), todo["downloads"], "/my/requests"),
    ]


async def buyer_items(principal: Principal) -> list[Item]:
    todo = await service.buyer_todo(org_id=principal.org_id)
    return [
        Item("active", N_("可使用的数据"), todo["active"], "/my/entitlements"),
        Item("my_demands", N_("已有回应的需求"), todo["demands"], "/demands"),
    ]


async def review_items(principal: Principal) -> list[Item]:
    todo = await service.review_todo()
    return [
        Item("submitted", N_("待审核的上架申请"), todo["submitted"], "/review"),
        Item("notice", N_("公示中的上架"), todo["notice"], "/review"),
        Item("new_version", N_("待审核的新版本"), todo["new_version"], "/review"),
        Item("objections", N_("待处理的异议"), todo["objections"], "/review"),
    ]


async def caps_items(principal: Principal) -> list[Item]:
    todo = await service.caps_todo()
    return [Item("uncapped", N_("待核定上限收费标准的公共数据"), todo["uncapped"], "/caps")]


def register(panels: HomePanels) -> None:
    panels.register(key="holder", title=N_("我的数据待办"), roles=("holder", "operator"), provider=holder_items)
    panels.register(key="buyer", title=N_("我的申请"), roles=("buyer",), provider=buyer_items)
    panels.register(key="review", title=N_("上架审核"), roles=("admin",), provider=review_items)
    panels.register(key="caps", title=N_("上限收费标准"), roles=("agency",), provider=caps_items)
