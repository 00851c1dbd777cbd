"""Jobs of the regulator's desk: the periodic scan, and the alert raised the moment an operator's revenue
passes its permitted maximum (an operators event). Imported by billing.tasks."""

from __future__ import annotations

from market import jobs
from operators import events


@jobs.job(name="billing.oversight_scan", every_seconds=900)
async def oversight_scan() -> None:
    """Scan listings and recent orders for alerts (periodic, idempotent)."""
    from billing.oversight import service

    await service.scan()


async def _revenue_over_max(*, agreement_id: int, number: str, year: int, revenue_fen: int, max_fen: int,
                            **_more) -> None:
    from billing.oversight import service

    await service.record_revenue_alert(agreement_id=agreement_id, source="event",
                                       figures={"year": year, "revenue_fen": revenue_fen, "max_fen": max_fen})


events.subscribe(events.REVENUE_OVER_MAX, _revenue_over_max)
