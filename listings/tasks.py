"""Jobs of the catalogue: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs, runtime


async def _profile_set_aside(kwargs: dict, reason: str) -> None:
    """The profiling job was dead-lettered (its attempt killed the process, or it kept failing)."""
    from listings import service

    await service.abandon_profile(version_id=kwargs["version_id"], reason=reason)


@jobs.job(name="listings.profile_version", queue="profiling", max_retries=2, time_limit_ms=60 * 60 * 1000,
          on_dead_letter=_profile_set_aside)
def profile_version(version_id: int) -> None:
    """Read, profile, classify and score an uploaded version (safe to run twice)."""
    from listings import service

    service.run_profile(version_id, runtime.storage())


@jobs.job(name="listings.close_notices", every_seconds=600)
async def close_notices() -> None:
    """List listings whose public notice ended without objection (periodic)."""
    from listings import service

    await service.close_notices()


@jobs.job(name="listings.check_freshness", every_seconds=6 * 3600)
async def check_freshness() -> None:
    """Flag overdue data and suspend dead sources (periodic)."""
    from listings import service

    await service.check_freshness()


@jobs.job(name="listings.deliver_version", max_retries=5)
async def deliver_version(listing_id: int, version: int) -> None:
    """Deliver a newly published version to the buyers whose entitlements reach it (idempotent)."""
    from listings import service

    await service.deliver_version(listing_id=listing_id, version=version)


@jobs.job(name="listings.expire_entitlements", every_seconds=3600)
async def expire_entitlements() -> None:
    """End subscriptions whose term is over (periodic)."""
    from listings import service

    await service.expire_due()


@jobs.job(name="listings.close_registration_notices", every_seconds=600)
async def close_registration_notices() -> None:
    """Registration filings whose public notice ended take effect (periodic)."""
    from listings.registration import service

    await service.close_notices()


@jobs.job(name="listings.registration_renewals", every_seconds=6 * 3600)
async def registration_renewals() -> None:
    """Remind holders of registrations about to expire, and expire the lapsed ones (periodic)."""
    from listings.registration import service

    await service.remind_and_expire()
