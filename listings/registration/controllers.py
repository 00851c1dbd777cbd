"""Routes of the register (登记): the JSON API under /api/v1/registrations and the pages — the holder
applies and files changes, the registration body (platform admin) accepts or rejects, anyone reads the
public notices and looks up a code, the regulator reads everything. Thin: the rules are in the service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from listings.registration import service
from listings.registration.tables import RecordStatus
from market.api_contract import Id
from market.errors import DomainError
from market.tables import Role
from market.web import PUBLIC, page, roles

APPLICANTS = roles(Role.HOLDER, Role.OPERATOR)
REGISTRAR = roles(Role.ADMIN)
READERS = roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN, Role.REGULATOR)


class ApplyIn(msgspec.Struct):
    kind: str  # resource (an asset) or product (a product-tier listing)
    subject_id: Id  # the asset id or the listing id
    note: str = ""


class FileIn(msgspec.Struct):
    type: str  # change (also renews), correction or cancel
    note: str


class DecisionIn(msgspec.Struct):
    note: str = ""


class RecordOut(msgspec.Struct):
    id: int
    registration_id: int
    type: str
    status: str
    note: str
    decision_note: str
    notice_until: datetime | None
    created_at: datetime
    effective_at: datetime | None
    details: dict


class RegistrationOut(msgspec.Struct):
    id: int
    kind: str
    asset_id: int
    listing_id: int | None
    holder_id: int
    title: str
    code: str | None
    status: str
    effective_at: datetime | None
    valid_until: datetime | None
    details: dict
    records: list[RecordOut] = []


class NoticeOut(msgspec.Struct):
    record_id: int
    registration_id: int
    type: str
    kind: str
    title: str
    holder_name: str
    notice_until: datetime | None
    code: str | None


class CodeOut(msgspec.Struct):
    code: str
    kind: str
    title: str
    holder_name: str
    status: str
    effective_at: datetime | None
    valid_until: datetime | None


def record_out(r: dict) -> RecordOut:
    return RecordOut(id=r["id"], registration_id=r["registration"], type=r["type"], status=r["status"], note=r["note"],
                     decision_note=r["decision_note"], notice_until=r["notice_until"], created_at=r["created_at"],
                     effective_at=r["effective_at"], details=r["details"])


def registration_out(r: dict) -> RegistrationOut:
    return RegistrationOut(id=r["id"], kind=r["kind"], asset_id=r["asset"], listing_id=r["listing"],
                           holder_id=r["holder"], title=r["title"], code=r["code"], status=r["status"],
                           effective_at=r["effective_at"], valid_until=r["valid_until"], details=r["details"],
                           records=[record_out(x) for x in r.get("records", [])])


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


# ---- JSON API ----------------------------------------------------------------------------------

@post("/data-registrations", opt=APPLICANTS, status_code=201,
      summary="File the initial registration (登记) of one of the caller's data resources or products")
async def api_apply(request: Request, data: JSONBody[ApplyIn]) -> RecordOut:
    row = await service.apply(kind=data.kind, subject_id=data.subject_id, org_id=request.user.org_id,
                              user_id=request.user.user_id, note=data.note)
    return record_out({**row, "details": msgspec.json.decode(row["details"])})


@get("/data-registrations", opt=READERS,
     summary="Registrations the caller may see (its own; all for the registration body and regulators)")
async def api_list(request: Request, status: FromQuery[str | None] = None) -> dict:
    rows = await service.list_registrations(status=status, **_who(request))
    return {"items": [registration_out(r) for r in rows]}


@get("/data-registrations/{registration_id:int}", opt=READERS, summary="One registration with its filings")
async def api_get(request: Request, registration_id: FromPath[int]) -> RegistrationOut:
    return registration_out(await service.get_registration(registration_id=registration_id, **_who(request)))


@post("/data-registrations/{registration_id:int}/records", opt=APPLICANTS, status_code=201,
      summary="File a change (which also renews), a correction or a cancellation of the caller's registration")
async def api_file(request: Request, registration_id: FromPath[int], data: JSONBody[FileIn]) -> RecordOut:
    row = await service.file(registration_id=registration_id, type=data.type, org_id=request.user.org_id,
                             user_id=request.user.user_id, note=data.note)
    return record_out({**row, "details": msgspec.json.decode(row["details"])})


@post("/data-registration-records/{record_id:int}/accept", opt=REGISTRAR, status_code=200,
      summary="The registration body accepts a filing: initial and change filings go to public notice, "
              "corrections and cancellations take effect")
async def api_accept(record_id: FromPath[int], data: JSONBody[DecisionIn]) -> dict:
    row = await service.accept(record_id=record_id, note=data.note)
    return {"id": row["id"], "status": row["status"]}


@post("/data-registration-records/{record_id:int}/reject", opt=REGISTRAR, status_code=200,
      summary="The registration body refuses a filing, with its reason")
async def api_reject(record_id: FromPath[int], data: JSONBody[DecisionIn]) -> dict:
    row = await service.reject(record_id=record_id, reason=data.note)
    return {"id": row["id"], "status": row["status"]}


@get("/data-registration-notices", opt=PUBLIC, summary="Registration filings in public notice (公示), for anyone")
async def api_notices() -> dict:
    rows = await service.public_notices()
    return {"items": [NoticeOut(record_id=r["id"], registration_id=r["registration"], type=r["type"], kind=r["kind"],
                                title=r["title"], holder_name=r["holder_name"], notice_until=r["notice_until"],
                                code=r["code"]) for r in rows]}


@get("/data-registration-codes", opt=PUBLIC, summary="What a registration code (?code=) registers and whether it is valid")
async def api_code(code: Annotated[str, QueryParameter(max_length=40)]) -> CodeOut:
    return CodeOut(**await service.by_code(code))


api_routes = [api_apply, api_list, api_get, api_file, api_accept, api_reject, api_notices, api_code]


# ---- pages -------------------------------------------------------------------------------------

def _names() -> dict:
    return {"types": service.TYPE_NAMES, "records": service.RECORD_STATUS_NAMES, "statuses": service.STATUS_NAMES,
            "kinds": service.KIND_NAMES}


@get("/registrations", opt=READERS, include_in_schema=False)
async def list_page(request: Request) -> Response:
    r = request.user.roles
    is_holder = bool({Role.HOLDER, Role.OPERATOR} & set(r))
    return page(request, "listings/registration/list.html",
                registrations=await service.list_registrations(**_who(request)),
                queue=await service.filings(status=RecordStatus.APPLIED.value) if Role.ADMIN in r else [],
                subjects=await service.subjects_of(org_id=request.user.org_id) if is_holder else None,
                is_registrar=Role.ADMIN in r, names=_names())


@post("/registrations/apply", opt=APPLICANTS, include_in_schema=False)
async def apply_submit(request: Request) -> Response:
    form = await request.form()
    kind, _, subject = str(form.get("subject", "")).partition(":")
    if not subject.isascii() or not subject.isdigit() or len(subject) > 9:
        raise DomainError("registration.subject_required", "请选择要登记的数据资源或数据产品")
    record = await service.apply(kind=kind, subject_id=int(subject), org_id=request.user.org_id,
                                 user_id=request.user.user_id, note=str(form.get("note", "")))
    return Redirect(f"/registrations/{record['registration']}")


@get("/registrations/{registration_id:int}", opt=READERS, include_in_schema=False)
async def detail_page(request: Request, registration_id: FromPath[int]) -> Response:
    reg = await service.get_registration(registration_id=registration_id, **_who(request))
    r = request.user.roles
    return page(request, "listings/registration/detail.html", reg=reg, names=_names(),
                is_holder=bool({Role.HOLDER, Role.OPERATOR} & set(r)) and reg["holder"] == request.user.org_id,
                is_registrar=Role.ADMIN in r)


@post("/registrations/{registration_id:int}/records", opt=APPLICANTS, include_in_schema=False)
async def file_submit(request: Request, registration_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.file(registration_id=registration_id, type=str(form.get("type", "")), org_id=request.user.org_id,
                       user_id=request.user.user_id, note=str(form.get("note", "")))
    return Redirect(f"/registrations/{registration_id}")


@post("/registration-records/{record_id:int}/decide", opt=REGISTRAR, include_in_schema=False)
async def decide_submit(request: Request, record_id: FromPath[int]) -> Response:
    form = await request.form()
    note = str(form.get("note", ""))
    if form.get("action") == "reject":
        row = await service.reject(record_id=record_id, reason=note)
    else:
        row = await service.accept(record_id=record_id, note=note)
    return Redirect(f"/registrations/{row['registration']}")


@get("/registrations/notices", opt=PUBLIC, include_in_schema=False)
async def notices_page(request: Request, code: FromQuery[str | None] = None) -> Response:
    found = error = None
    if code:
        try:
            found = await service.by_code(code)
        except DomainError as exc:
            error = exc
    return page(request, "listings/registration/notices.html", notices=await service.public_notices(),
                names=_names(), code=code or "", found=found, error=error)


page_routes = [list_page, apply_submit, detail_page, file_submit, decide_submit, notices_page]
router = Router(path="/", route_handlers=[Router(path="/api/v1", route_handlers=api_routes, tags=["registration"]),
                                          *page_routes])
