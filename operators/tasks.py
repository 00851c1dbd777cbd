"""Jobs of the operators package: thin, idempotent, taking ids."""

from __future__ import annotations

from market import jobs
from market.i18n import N_
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


async def _run_set_aside(kwargs: dict, reason: str) -> None:
    """A pipeline run's job was dead-lettered: the run fails with the reason instead of staying queued."""
    from operators.pipelines import _runs

    await _runs._fail(kwargs["run_id"], f"pipeline.{reason}", N_("加工任务多次未能完成，已停止重试。请检查 SQL 后重新运行"), {})


@jobs.job(name="operators.run_pipeline", queue="pipelines", max_retries=0, time_limit_ms=2 * 60 * 60 * 1000,
          on_dead_letter=_run_set_aside)
async def run_pipeline(run_id: int) -> None:
    """Run a pipeline and publish its output as a new version of the derived asset (idempotent)."""
    from operators import service

    await service.execute_run(run_id=run_id)


@jobs.job(name="operators.rerun_pipelines", every_seconds=600)
async def rerun_pipelines() -> None:
    """Re-run pipelines whose sources got a new version, where the pipeline asks for it (periodic)."""
    from operators import service

    await service.rerun_due()


@jobs.job(name="operators.remind_coapprovals", every_seconds=3600)
async def remind_coapprovals() -> None:
    """Remind source holders of derived products still waiting for their approval (at most daily each)."""
    from operators import service

    await service.remind_pending()
