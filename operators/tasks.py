"""Jobs of the operators package: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs
from operators import events


@jobs.job(name="operators.activate_agreements", every_seconds=3600)
async def activate_agreements() -> None:
    """Signed agreements whose term has begun take effect (periodic)."""
    from operators import service

    await service.activate_due()


@jobs.job(name="operators.expire_agreements", every_seconds=3600)
async def expire_agreements() -> None:
    """Agreements whose term is over expire (periodic)."""
    from operators import service

    await service.expire_due()


# One job per event, named as the event: the outbox row is the durable record that it happened.
@jobs.job(name=events.SUSPENDED, max_retries=5)
async def agreement_suspended(**payload) -> None:
    await events.deliver(events.SUSPENDED, payload)


@jobs.job(name=events.RESUMED, max_retries=5)
async def agreement_resumed(**payload) -> None:
    await events.deliver(events.RESUMED, payload)


@jobs.job(name=events.ENDED, max_retries=5)
async def agreement_ended(**payload) -> None:
    await events.deliver(events.ENDED, payload)


@jobs.job(name=events.REVENUE_OVER_MAX, max_retries=5)
async def revenue_over_max(**payload) -> None:
    await events.deliver(events.REVENUE_OVER_MAX, payload)
