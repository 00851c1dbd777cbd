"""Routes of dead letters (platform admin): list jobs set aside, requeue or discard one."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from market import dead_letters
from market.i18n import gettext
from market.schemas import DeadLetterOut
from market.tables import Role
from market.web import page, page_params, paginated, roles

ADMIN = roles(Role.ADMIN)


def _out(item: dict) -> DeadLetterOut:
    return DeadLetterOut(**item, reason_text=gettext(dead_letters.REASONS.get(item["reason"], item["reason"])))


@get("/dead-letters", opt=ADMIN, summary="Jobs set aside (dead letters), the most recent first (admin)")
async def api_dead_letters(page: FromQuery[int | None] = None, page_size: FromQuery[int | None] = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await dead_letters.list_dead(page=p, page_size=size)
    return paginated([_out(r) for r in rows], total, p, size)


@post("/dead-letters/{job_id:int}/requeue", opt=ADMIN, status_code=200,
      summary="Send a dead job again, once (admin, audited)")
async def api_requeue(job_id: FromPath[int]) -> DeadLetterOut:
    return _out(await dead_letters.requeue(job_id))


@post("/dead-letters/{job_id:int}/discard", opt=ADMIN, status_code=200,
      summary="Drop a dead job for good (admin, audited)")
async def api_discard(job_id: FromPath[int]) -> DeadLetterOut:
    return _out(await dead_letters.discard(job_id))


@get("/admin/jobs", opt=ADMIN, include_in_schema=False)
async def jobs_page(request: Request, page_no: Annotated[int | None, QueryParameter(name="page")] = None,
                    done: FromQuery[str | None] = None) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await dead_letters.list_dead(page=p, page_size=size)
    return page(request, "market/jobs.html", jobs=[_out(r) for r in rows], paging=paginated([], total, p, size),
                done=done if done in ("requeued", "discarded") else None)


@post("/admin/jobs/{job_id:int}/requeue", opt=ADMIN, include_in_schema=False)
async def jobs_requeue(job_id: FromPath[int]) -> Response:
    await dead_letters.requeue(job_id)
    return Redirect("/admin/jobs?done=requeued")


@post("/admin/jobs/{job_id:int}/discard", opt=ADMIN, include_in_schema=False)
async def jobs_discard(job_id: FromPath[int]) -> Response:
    await dead_letters.discard(job_id)
    return Redirect("/admin/jobs?done=discarded")


router = Router(path="/", route_handlers=[
    Router(path="/api/v1", route_handlers=[api_dead_letters, api_requeue, api_discard], tags=["jobs"]),
    jobs_page, jobs_requeue, jobs_discard,
])
