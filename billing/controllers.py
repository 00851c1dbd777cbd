"""Web routes of billing; `router` is mounted by the composition root (market/app.py)."""

from __future__ import annotations

from litestar import Router, get

from billing import fund
from billing.finance.controllers import router as finance_router
from billing.oversight.controllers import router as oversight_router
from billing.sales.controllers import router as sales_router
from billing.schemas import FundMonthOut, FundOut, FundTierOut
from market.web import PUBLIC


@get("/fund", opt=PUBLIC, summary="The governance fund: balance, inflows and disbursements, by month and tier")
async def api_fund() -> FundOut:
    s = await fund.summary()
    # inflows by holder stay out of the public view: they would disclose each holder's sales
    return FundOut(balance_fen=s["balance_fen"], inflow_fen=s["inflow_fen"], outflow_fen=s["outflow_fen"],
                   by_month=[FundMonthOut(**m) for m in s["by_month"]],
                   inflow_by_tier=[FundTierOut(**t) for t in s["inflow_by_tier"]])


api_router = Router(path="/api/v1", route_handlers=[api_fund], tags=["governance fund"])

# the holder's 销售, platform finance's 财务 and the regulator's desk ride on billing's router, so the composition root need not know them
router = Router(path="/", route_handlers=[api_router, sales_router, finance_router, oversight_router])
