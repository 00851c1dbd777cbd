"""Routes of data assets: upload, asset pages, versions, grade, catalogue confirmation."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

import msgspec

from listings import service
from listings.schemas import AssetOut, GradeIn, PersonalIn, UploadedOut, asset_out
from market.api_contract import FILE_UPLOAD, Int64
from market.errors import DomainError
from market.money import Money, MoneyError
from market.tables import Role
from market.web import PageNo, PageSize, page, page_params, paginated, roles

HOLDERS = roles(Role.HOLDER, Role.OPERATOR)


VIEWERS = roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN, Role.REGULATOR)
UPLOAD_LIMIT = service.MAX_UPLOAD_BYTES + 1024 * 1024  # the file plus the multipart envelope


def _scope_org(request: Request) -> int | None:
    """Holders see their own organization's assets; platform admins and regulators see all."""
    if request.user.roles.intersection({Role.ADMIN, Role.REGULATOR}):
        return None
    return request.user.org_id


async def _upload(request: Request, state: State, file: UploadFile | None, asset_id: int | None) -> dict:
    if file is None or not isinstance(file, UploadFile):
        raise DomainError("upload.no_file", "请选择要上传的文件")
    try:
        return await service.upload(storage=state.storage, holder_org_id=request.user.org_id,
                                    user_id=request.user.user_id, stream=file.file, filename=file.filename,
                                    content_type=file.content_type or "", asset_id=asset_id)
    finally:
        await file.close()


@post("/assets", opt=HOLDERS, status_code=201, request_max_body_size=UPLOAD_LIMIT,
      summary="Upload a table (multipart field `file`); profiling starts in the background")
async def api_upload(request: Request, state: State,
                     data: Annotated[dict, FILE_UPLOAD]) -> UploadedOut:
    result = await _upload(request, state, data.get("file"), None)
    return UploadedOut(id=result["id"], version_id=result["version_id"], version=result["version"])


@post("/assets/{asset_id:int}/versions", opt=HOLDERS, status_code=201, request_max_body_size=UPLOAD_LIMIT,
      summary="Upload a new version of an asset's table")
async def api_upload_version(request: Request, state: State, asset_id: FromPath[int],
                             data: Annotated[dict, FILE_UPLOAD]) -> UploadedOut:
    result = await _upload(request, state, data.get("file"), asset_id)
    return UploadedOut(id=result["id"], version_id=result["version_id"], version=result["version"])


@get("/assets/{asset_id:int}", opt=VIEWERS, summary="An asset with its latest version's profile")
async def api_asset(request: Request, asset_id: FromPath[int]) -> AssetOut:
    return asset_out(await service.get_asset(asset_id=asset_id, org_id=_scope_org(request)))


@get("/assets", opt=HOLDERS, summary="The caller's organization's assets")
async def api_assets(request: Request, page: PageNo = None, page_size: PageSize = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await service.list_assets(org_id=request.user.org_id, page=p, page_size=size)
    items = [{"id": r["id"], "title": r["title"], "grade": r["grade"], "version": r["current_version"],
              "updated_at": r["updated_at"]} for r in rows]
    return paginated(items, total, p, size)


@get("/assets/{asset_id:int}/versions/{number:int}/file", opt=HOLDERS, status_code=303,
     summary="The file the holder uploaded as a version (redirect to a short-lived signed URL)")
async def api_version_file(request: Request, state: State, asset_id: FromPath[int], number: FromPath[int]) -> Redirect:
    url = await service.version_file_url(asset_id=asset_id, number=number, org_id=request.user.org_id,
                                         storage=state.storage)
    return Redirect(url, status_code=303)


@post("/assets/{asset_id:int}/grade", opt=HOLDERS, status_code=200,
      summary="Correct the suggested classification grade, with a reason (audited)")
async def api_correct_grade(request: Request, asset_id: FromPath[int], data: JSONBody[GradeIn]) -> AssetOut:
    await service.correct_grade(asset_id=asset_id, org_id=request.user.org_id, grade=data.grade, reason=data.reason)
    return asset_out(await service.get_asset(asset_id=asset_id, org_id=request.user.org_id))


@post("/assets/{asset_id:int}/personal", opt=HOLDERS, status_code=200,
      summary="Correct whether a column is personal information, with a reason (audited)")
async def api_correct_personal(request: Request, asset_id: FromPath[int], data: JSONBody[PersonalIn]) -> AssetOut:
    await service.correct_personal(asset_id=asset_id, org_id=request.user.org_id, column=data.column,
                                   personal=data.personal, reason=data.reason)
    return asset_out(await service.get_asset(asset_id=asset_id, org_id=request.user.org_id))


@get("/assets/{asset_id:int}/suggestion", opt=HOLDERS,
     summary="Catalogue fields the system proposes for the asset, from its profile")
async def api_suggestion(request: Request, asset_id: FromPath[int]) -> dict:
    return await service.suggestion(asset_id=asset_id, org_id=request.user.org_id)


class ConfirmIn(msgspec.Struct):
    title: str
    summary: str
    category_path: str
    update_cycle: str
    tiers: list[str]
    tags: list[str] = []
    sharing_type: str | None = None
    open_type: str | None = None
    product_price_fen: Int64 | None = None
    cleaned_price_fen: Int64 | None = None


@post("/assets/{asset_id:int}/confirm", opt=HOLDERS, status_code=201,
      summary="Confirm the catalogue and submit listings at the chosen tiers")
async def api_confirm(request: Request, asset_id: FromPath[int], data: JSONBody[ConfirmIn]) -> dict:
    suggested = await service.suggestion(asset_id=asset_id, org_id=request.user.org_id)
    fields = {"title": data.title, "summary": data.summary, "category_path": data.category_path,
              "update_cycle": data.update_cycle, "tags": data.tags or suggested["tags"],
              "sharing_type": data.sharing_type or suggested["sharing_type"],
              "open_type": data.open_type or suggested["open_type"]}
    created = await service.confirm_and_submit(
        asset_id=asset_id, org_id=request.user.org_id, fields=fields, tiers=data.tiers,
        product_price_fen=data.product_price_fen,
        cleaned_price_fen=data.cleaned_price_fen or suggested["cleaned_price_fen"])
    return {"listings": [{"id": r["id"], "tier": r["tier"], "status": r["status"]} for r in created]}


api_routes = [api_upload, api_upload_version, api_asset, api_assets, api_version_file, api_correct_grade,
              api_suggestion, api_confirm, api_correct_personal]


# ---- pages -------------------------------------------------------------------------------


@get("/my/data", opt=HOLDERS, include_in_schema=False)
async def my_data_page(request: Request, page_no: Annotated[int | None, QueryParameter(name="page")] = None) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await service.list_assets(org_id=request.user.org_id, page=p, page_size=size)
    return page(request, "listings/my_data.html", assets=rows, paging=paginated([], total, p, size))


@get("/my/data/upload", opt=HOLDERS, include_in_schema=False)
async def upload_page(request: Request, asset: FromQuery[int | None] = None) -> Response:
    return page(request, "listings/upload.html", asset_id=asset, error=None)


@post("/my/data/upload", opt=HOLDERS, include_in_schema=False, request_max_body_size=UPLOAD_LIMIT)
async def upload_submit(request: Request, state: State,
                        data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
    raw_asset = str(data.get("asset_id") or "").strip()
    try:
        result = await _upload(request, state, data.get("file"), int(raw_asset) if raw_asset.isdigit() else None)
    except DomainError as exc:
        from market.web import error_body

        return page(request, "listings/upload.html", status_code=exc.status_code, asset_id=raw_asset or None,
                    error=error_body(exc.code, exc.message, exc.params))
    if request.headers.get("accept", "").startswith("application/json"):
        return Response({"id": result["id"], "url": f"/my/data/{result['id']}"}, status_code=201)
    return Redirect(f"/my/data/{result['id']}")


@get("/my/data/{asset_id:int}", opt=VIEWERS, include_in_schema=False)
async def asset_page(request: Request, asset_id: FromPath[int]) -> Response:
    data = asset_out(await service.get_asset(asset_id=asset_id, org_id=_scope_org(request)))
    return page(request, "listings/asset.html", asset=data)


@get("/my/data/{asset_id:int}/status", opt=VIEWERS, include_in_schema=False)
async def asset_status_fragment(request: Request, asset_id: FromPath[int]) -> Response:
    """htmx polls this while profiling runs; it stops polling once the status is final."""
    data = asset_out(await service.get_asset(asset_id=asset_id, org_id=_scope_org(request)))
    response = page(request, "listings/_status.html", asset=data)
    if data.profile_status in ("done", "failed", "encoding"):
        response.headers["HX-Refresh"] = "true"
    return response


@post("/my/data/{asset_id:int}/grade", opt=HOLDERS, include_in_schema=False)
async def grade_submit(request: Request, asset_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.correct_grade(asset_id=asset_id, org_id=request.user.org_id, grade=str(form.get("grade", "")),
                                reason=str(form.get("reason", "")))
    return Redirect(f"/my/data/{asset_id}")


@post("/my/data/{asset_id:int}/personal", opt=HOLDERS, include_in_schema=False)
async def personal_submit(request: Request, asset_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.correct_personal(asset_id=asset_id, org_id=request.user.org_id, column=str(form.get("column", "")),
                                   personal=form.get("personal") == "yes", reason=str(form.get("reason", "")))
    return Redirect(f"/my/data/{asset_id}")


@get("/my/data/{asset_id:int}/confirm", opt=HOLDERS, include_in_schema=False)
async def confirm_page(request: Request, asset_id: FromPath[int]) -> Response:
    from listings import catalogue

    suggested = await service.suggestion(asset_id=asset_id, org_id=request.user.org_id)
    path = " > ".join(suggested["category_path"]) if isinstance(suggested["category_path"], list) \
        else suggested["category_path"]
    return page(request, "listings/confirm.html", asset_id=asset_id, s=suggested, category=path, error=None,
                choices=catalogue.category_choices(), cycles=catalogue.UPDATE_CYCLES, label=catalogue.label)


@post("/my/data/{asset_id:int}/confirm", opt=HOLDERS, include_in_schema=False)
async def confirm_submit(request: Request, asset_id: FromPath[int]) -> Response:
    from listings import catalogue

    form = await request.form()
    suggested = await service.suggestion(asset_id=asset_id, org_id=request.user.org_id)
    fields = {"title": str(form.get("title", "")), "summary": str(form.get("summary", "")),
              "category_path": str(form.get("category_path", "")), "update_cycle": str(form.get("update_cycle", "")),
              "tags": [t for t in str(form.get("tags", "")).replace("，", ",").split(",") if t.strip()],
              "sharing_type": suggested["sharing_type"], "open_type": suggested["open_type"]}
    tiers = [t for t in ("raw", "cleaned", "product") if form.get(f"tier_{t}") == "on"]
    price = str(form.get("product_price_yuan", "")).strip()
    try:
        product_price = Money.of_yuan(price).amount if price else None
        created = await service.confirm_and_submit(asset_id=asset_id, org_id=request.user.org_id, fields=fields,
                                                   tiers=tiers, product_price_fen=product_price,
                                                   cleaned_price_fen=suggested["cleaned_price_fen"])
    except (DomainError, MoneyError) as exc:
        from market.web import error_body

        err = error_body(exc.code, exc.message if isinstance(exc, DomainError) else "请填写正确的金额（元，最多两位小数）",
                         getattr(exc, "params", None) if isinstance(exc, DomainError) else None)
        return page(request, "listings/confirm.html", status_code=400, asset_id=asset_id, s={**suggested, **fields},
                    category=fields["category_path"], error=err, choices=catalogue.category_choices(),
                    cycles=catalogue.UPDATE_CYCLES, label=catalogue.label)
    return Redirect(f"/listings/{created[0]['id']}")


page_routes = [my_data_page, upload_page, upload_submit, asset_page, asset_status_fragment, grade_submit, personal_submit, confirm_page,
               confirm_submit]
