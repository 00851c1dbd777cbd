"""Routes of the governance fund's disbursements: the public 治理基金 page, the proposals page (admin
proposes, pays and withdraws; the agency approves or rejects; the regulator reads) and their JSON API.
Thin: the rules are in billing.disbursements.service."""

from __future__ import annotations

import json

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from billing import commission, fund
from billing.disbursements import service
from billing.disbursements.schemas import ApproveIn, ProposalIn, ProposalOut, ReasonIn, proposal_out
from billing.disbursements.tables import PAY_TO_NAMES, PURPOSE_NAMES, STATUS_NAMES, PayTo, ProposalStatus
from market import identity
from market.errors import DomainError
from market.money import Money, MoneyError
from market.tables import Role
from market.web import PUBLIC, page, roles

ADMINS = roles(Role.ADMIN)
AGENCIES = roles(Role.AGENCY)
READERS = roles(Role.ADMIN, Role.AGENCY, Role.REGULATOR)


# ---- the public page ----------------------------------------------------------------------------

def chart_data(by_month: list[dict]) -> str:
    """The chart's series as the JSON its canvas carries (分, drawn as 元 by /static/fund-chart.js)."""
    return json.dumps({"months": [m["month"] for m in by_month],
                       "inflow_fen": [m["inflow_fen"] for m in by_month],
                       "outflow_fen": [m["outflow_fen"] for m in by_month]}, separators=(",", ":"))


def percent(bps: int) -> str:
    """Basis points as a percentage for people to read ('30', '2.4'), without going through a float."""
    whole, rest = divmod(bps, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")


EXAMPLE_SALE_FEN = 1_000_000  # the ¥10,000 sale the page uses to show how the fund is fed


def how_fed(settings) -> dict:
    """The rates that feed the fund, per tier, with what a ¥10,000 sale of each brings in."""
    rates = commission.rates_from(settings)
    tiers = []
    for tier in commission.TIERS:
        s = commission.split_for_tier(amount_fen=EXAMPLE_SALE_FEN, tax_fen=0, tier=tier, rates=rates)
        tiers.append({"tier": tier, "commission_pct": percent(s.commission_bps),
                      "commission_fen": s.commission.amount, "fund_fen": s.fund.amount})
    return {"fund_share_pct": percent(rates.fund_share_bps), "example_fen": EXAMPLE_SALE_FEN, "tiers": tiers}


@get("/fund", opt=PUBLIC, include_in_schema=False)
async def fund_page(request: Request) -> Response:
    summary = await fund.summary()
    # inflows by holder stay off this page: they would disclose each holder's sales
    summary.pop("inflow_by_holder", None)
    return page(request, "billing/fund.html", fund=summary, chart=chart_data(summary["by_month"]),
                by_purpose=await fund.outflow_by_purpose(), spends=await service.public_disbursements(),
                purpose_names=PURPOSE_NAMES, status_names=STATUS_NAMES, fed=how_fed(request.app.state.settings))


# ---- the proposals page and its forms ----------------------------------------------------------

@get("/fund/proposals", opt=READERS, include_in_schema=False)
async def proposals_page(request: Request, status: FromQuery[str | None] = None) -> Response:
    status = status if status in {s.value for s in ProposalStatus} else None
    orgs, _ = await identity.list_organizations(page=1, page_size=500, verification="verified")
    summary = await fund.summary()
    return page(request, "billing/fund_proposals.html", proposals=await service.list_proposals(status=status),
                status=status, balance_fen=summary["balance_fen"], available_fen=await service.available_fen(),
                organizations=sorted(orgs, key=lambda o: o["name"]), purpose_names=PURPOSE_NAMES,
                pay_to_names=PAY_TO_NAMES, status_names=STATUS_NAMES, statuses=list(ProposalStatus),
                is_admin=Role.ADMIN in request.user.roles, is_agency=Role.AGENCY in request.user.roles)


def _optional_id(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise DomainError("fund.reference_invalid", "引用的需求或数据资源编号必须是正整数")
    return int(value)


def _fen_of(text: str) -> int:
    try:
        return Money.of_yuan(str(text or "").strip()).amount
    except MoneyError:
        raise DomainError("fund.amount_invalid", "请按元填写金额，最多两位小数，例如 5000 或 5000.50") from None


@post("/fund/proposals", opt=ADMINS, include_in_schema=False)
async def proposal_submit(request: Request) -> Response:
    form = await request.form()
    recipient = _optional_id(str(form.get("recipient_org_id", "")))
    if recipient is None:
        raise DomainError("fund.recipient_invalid", "收款机构必须是平台已核验的机构")
    await service.propose(purpose=str(form.get("purpose", "")), title=str(form.get("title", "")),
                          reason=str(form.get("reason", "")), amount_fen=_fen_of(form.get("amount_yuan", "")),
                          recipient_org_id=recipient, pay_to=str(form.get("pay_to", PayTo.PAYABLE.value)),
                          demand_id=_optional_id(str(form.get("demand_id", ""))),
                          asset_id=_optional_id(str(form.get("asset_id", ""))))
    return Redirect("/fund/proposals")


@post("/fund/proposals/{proposal_id:int}/approve", opt=AGENCIES, include_in_schema=False)
async def proposal_approve_form(request: Request, proposal_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.approve(proposal_id=proposal_id, agency_org_id=request.user.org_id, note=str(form.get("note", "")))
    return Redirect("/fund/proposals")


@post("/fund/proposals/{proposal_id:int}/reject", opt=AGENCIES, include_in_schema=False)
async def proposal_reject_form(request: Request, proposal_id: FromPath[int]) -> Response:
    form = await request.form()
    # the page has one text box for the agency's note; rejecting makes it the reason
    await service.reject(proposal_id=proposal_id, agency_org_id=request.user.org_id,
                         reason=str(form.get("reason") or form.get("note") or ""))
    return Redirect("/fund/proposals")


@post("/fund/proposals/{proposal_id:int}/pay", opt=ADMINS, include_in_schema=False)
async def proposal_pay_form(proposal_id: FromPath[int]) -> Response:
    await service.pay(proposal_id=proposal_id)
    return Redirect("/fund/proposals")


@post("/fund/proposals/{proposal_id:int}/cancel", opt=ADMINS, include_in_schema=False)
async def proposal_cancel_form(request: Request, proposal_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.cancel(proposal_id=proposal_id, reason=str(form.get("reason", "")))
    return Redirect("/fund/proposals")


# ---- JSON API ----------------------------------------------------------------------------------

@post("/proposals", opt=ADMINS, status_code=201,
      summary="Propose a spend of the governance fund (platform admin; waits for the agency; audited)")
async def api_propose(data: JSONBody[ProposalIn]) -> ProposalOut:
    return proposal_out(await service.propose(
        purpose=data.purpose, title=data.title, reason=data.reason, amount_fen=data.amount_fen,
        recipient_org_id=data.recipient_org_id, pay_to=data.pay_to, demand_id=data.demand_id,
        asset_id=data.asset_id))


@get("/proposals", opt=READERS, summary="Disbursement proposals, newest first (optionally of one status)")
async def api_proposals(status: FromQuery[str | None] = None) -> list[ProposalOut]:
    return [proposal_out(r) for r in await service.list_proposals(status=status)]


@get("/proposals/{proposal_id:int}", opt=READERS, summary="One disbursement proposal")
async def api_proposal(proposal_id: FromPath[int]) -> ProposalOut:
    return proposal_out(await service.get(proposal_id=proposal_id))


@post("/proposals/{proposal_id:int}/approve", opt=AGENCIES, status_code=200,
      summary="Approve a proposal (agency; refused beyond what the fund holds net of approved spends)")
async def api_approve(request: Request, proposal_id: FromPath[int], data: JSONBody[ApproveIn]) -> ProposalOut:
    return proposal_out(await service.approve(proposal_id=proposal_id, agency_org_id=request.user.org_id,
                                              note=data.note))


@post("/proposals/{proposal_id:int}/reject", opt=AGENCIES, status_code=200,
      summary="Reject a proposal with a reason (agency)")
async def api_reject(request: Request, proposal_id: FromPath[int], data: JSONBody[ReasonIn]) -> ProposalOut:
    return proposal_out(await service.reject(proposal_id=proposal_id, agency_org_id=request.user.org_id,
                                             reason=data.reason))


@post("/proposals/{proposal_id:int}/pay", opt=ADMINS, status_code=200,
      summary="Pay an approved proposal from the fund through the ledger (admin; paying again returns it)")
async def api_pay(proposal_id: FromPath[int]) -> ProposalOut:
    return proposal_out(await service.pay(proposal_id=proposal_id))


@post("/proposals/{proposal_id:int}/cancel", opt=ADMINS, status_code=200,
      summary="Withdraw a proposal not yet paid, with a reason (admin)")
async def api_cancel(proposal_id: FromPath[int], data: JSONBody[ReasonIn]) -> ProposalOut:
    return proposal_out(await service.cancel(proposal_id=proposal_id, reason=data.reason))


api_router = Router(path="/api/v1/fund", route_handlers=[
    api_propose, api_proposals, api_proposal, api_approve, api_reject, api_pay, api_cancel,
], tags=["governance fund"])

router = Router(path="/", route_handlers=[
    fund_page, proposals_page, proposal_submit, proposal_approve_form, proposal_reject_form, proposal_pay_form,
    proposal_cancel_form, api_router,
])
