"""Jobs of payments: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs


@jobs.job(name="billing.payments.process_webhook", queue="default", max_retries=5)
async def process_webhook(webhook_event_id: int) -> None:
    """Act on a stored provider event once (safe to run twice)."""
    from billing.payments import _webhooks

    await _webhooks.process_event(webhook_event_id)
