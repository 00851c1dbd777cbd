"""Jobs of the catalogue: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs, runtime


@jobs.job(name="listings.profile_version", queue="profiling", max_retries=2, time_limit_ms=60 * 60 * 1000)
def profile_version(version_id: int) -> None:
    """Read, profile, classify and score an uploaded version (safe to run twice)."""
    from listings import service

    service.run_profile(version_id, runtime.storage())
