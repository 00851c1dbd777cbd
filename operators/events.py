"""Events of authorization agreements, for packages above operators (contracts, billing) to react to
without operators importing them.

`publish` records the event as an outbox job inside the caller's transaction, so it is sent after
commit and never lost (market.jobs); the job (operators.tasks) hands its payload to every handler a
higher package registered with `subscribe` when its tasks module was imported. Delivery is at least
once: handlers must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from market import jobs

SUSPENDED = "agreement.suspended"  # payload: agreement_id, number, operator_org_id, reason
RESUMED = "agreement.resumed"  # payload: agreement_id, number, operator_org_id, reason
ENDED = "agreement.ended"  # expired or terminated; payload as above, reason "expired" or the agency's words
REVENUE_OVER_MAX = "agreement.revenue_over_max"  # payload: agreement_id, number, year, revenue_fen, max_fen
EVENTS = (SUSPENDED, RESUMED, ENDED, REVENUE_OVER_MAX)

Handler = Callable[..., Awaitable[None]]
_handlers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """Have `handler(**payload)` called for every `event` (register once, at import of a tasks module)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if handler not in _handlers.setdefault(event, []):
        _handlers[event].append(handler)


async def publish(event: str, **payload) -> None:
    """Record the event in the current transaction; it is delivered after commit."""
    await jobs.enqueue(event, **payload)


async def deliver(event: str, payload: dict) -> None:
    for handler in list(_handlers.get(event, ())):
        await handler(**payload)
