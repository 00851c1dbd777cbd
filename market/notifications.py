"""In-app notifications, delivered by a job after the change that caused them commits.

A notification is a consequence of an audited change (the caller's), so it is not audited itself.
Delivery is idempotent: a job run twice finds `delivered_at` set and does nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone

from market import db, jobs
from market.tables import Notification


async def notify(*, kind: str, subject: str, body: str = "", link: str = "", user_id: int | None = None,
                 organization_id: int | None = None) -> int:
    """Record a notification for a user or a whole organization and enqueue its delivery."""
    if user_id is None and organization_id is None:
        raise ValueError("a notification needs a user or an organization")
    async with db.atomic():
        rows = await Notification.insert(Notification(
            user=user_id, organization=organization_id, kind=kind, subject=subject[:200], body=body,
            link=link[:300])).returning(Notification.id)
        await jobs.enqueue(deliver_notification, notification_id=rows[0]["id"])
    return rows[0]["id"]


@jobs.job(queue="default", max_retries=5)
async def deliver_notification(notification_id: int) -> None:
    # In-app delivery is the row itself; an e-mail/SMS channel would send here, once.
    await Notification.update({Notification.delivered_at: datetime.now(timezone.utc)}).where(
        (Notification.id == notification_id) & Notification.delivered_at.is_null())


async def unread(*, user_id: int, organization_id: int, limit: int = 20) -> list[dict]:
    return await Notification.select().where(
        ((Notification.user == user_id) | (Notification.organization == organization_id))
        & Notification.read_at.is_null()).order_by(Notification.id, ascending=False).limit(limit)
