"""Routes where the holder chooses the text encoding of an upload whose encoding was uncertain (请确认文件编码)."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect

from listings import service
from listings.schemas import AssetOut, asset_out
from market.api_contract import Id
from market.errors import DomainError
from market.tables import Role
from market.web import error_body, page, roles

HOLDERS = roles(Role.HOLDER, Role.OPERATOR)


class EncodingIn(msgspec.Struct):
    encoding: str  # one of the candidates listed in the asset's reading.encoding_candidates
    version: Id | None = None  # default: the latest version


@post("/assets/{asset_id:int}/encoding", opt=HOLDERS, status_code=200,
      summary="Choose the text encoding of a version whose encoding was uncertain (audited); profiling continues")
async def api_choose_encoding(request: Request, asset_id: FromPath[int], data: JSONBody[EncodingIn]) -> AssetOut:
    await service.choose_encoding(asset_id=asset_id, org_id=request.user.org_id, encoding=data.encoding,
                                  version=data.version)
    return asset_out(await service.get_asset(asset_id=asset_id, org_id=request.user.org_id))


@post("/my/data/{asset_id:int}/encoding", opt=HOLDERS, include_in_schema=False)
async def encoding_submit(request: Request, asset_id: FromPath[int]) -> Response:
    form = await request.form()
    raw_version = str(form.get("version", "")).strip()
    try:
        await service.choose_encoding(asset_id=asset_id, org_id=request.user.org_id,
                                      encoding=str(form.get("encoding", "")),
                                      version=int(raw_version) if raw_version.isdigit() else None)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise  # not the holder's asset: the usual error page
        data = asset_out(await service.get_asset(asset_id=asset_id, org_id=request.user.org_id))
        return page(request, "listings/asset.html", status_code=exc.status_code, asset=data,
                    encoding_error=error_body(exc.code, exc.message, exc.params))
    return Redirect(f"/my/data/{asset_id}")


api_routes = [api_choose_encoding]
page_routes = [encoding_submit]
