"""Routes of purchase contracts: the public 验证合同 page and API, a contract and its PDF for its
parties and overseers, and signing."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody

from contracts import service
from contracts.schemas import SignIn, contract_json
from market import documents
from market.errors import DomainError
from market.storage import content_disposition
from market.tables import Role
from market.web import AUTHENTICATED, PUBLIC, error_body, page, roles

SIGNERS = roles(Role.BUYER, Role.HOLDER, Role.OPERATOR)
VERIFY_LIMIT = documents.MAX_VERIFY_BYTES + 1024 * 1024  # the PDF plus the multipart envelope
# Verifying changes nothing and needs no login, so there is no session whose token a forged
# cross-site form could abuse: the public verification endpoints need no CSRF token.
PUBLIC_READ_ONLY = {**PUBLIC, "csrf_exempt": True}


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _verify_upload(data: dict) -> dict:
    file = data.get("file")
    if file is None or not isinstance(file, UploadFile):
        raise DomainError("upload.no_file", "请选择要上传的文件")
    try:
        return await service.verify_stream(file.read)
    finally:
        await file.close()


def _verification_json(result: dict) -> dict:
    out = {"issued": result["issued"], "sha256": result["sha256"]}
    if result["issued"]:
        out.update({k: result[k] for k in ("document", "parties", "signatures")})
        if "contract" in result:
            out["contract"] = result["contract"]
    return out


@post("/contracts/verify", opt=PUBLIC_READ_ONLY, status_code=200, request_max_body_size=VERIFY_LIMIT,
      summary="Whether the platform issued exactly this PDF (multipart field `file`): to whom, when, signatures")
async def api_verify(data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict:
    return _verification_json(await _verify_upload(data))


@get("/contracts/{contract_id:int}", opt=AUTHENTICATED,
     summary="A contract: parties, terms, status, signatures (its parties, regulators and admins)")
async def api_contract(request: Request, contract_id: FromPath[int]) -> Response:
    contract = await service.get_contract(contract_id=contract_id, org_id=request.user.org_id,
                                          roles=frozenset(request.user.roles))
    return Response(contract_json(contract))


@get("/contracts/{contract_id:int}/contract.pdf", opt=AUTHENTICATED, media_type=documents.PDF_CONTENT_TYPE,
     summary="The contract's issued PDF, the exact bytes signed (its parties, regulators and admins)")
async def api_contract_pdf(request: Request, contract_id: FromPath[int]) -> Response:
    filename, data = await service.contract_pdf(contract_id=contract_id, org_id=request.user.org_id,
                                                roles=frozenset(request.user.roles))
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"), "Cache-Control": "no-store"})


@post("/contracts/{contract_id:int}/sign", opt=SIGNERS, status_code=200,
      summary="Sign the contract's issued PDF as buyer or holder (both signed → signed)")
async def api_sign(request: Request, contract_id: FromPath[int], data: JSONBody[SignIn]) -> dict:
    result = await service.sign_as(contract_id=contract_id, org_id=request.user.org_id,
                                   roles=frozenset(request.user.roles), user_id=request.user.user_id,
                                   ip=_ip(request), party=data.party, expected_sha256=data.sha256)
    return contract_json(await service.get_contract(contract_id=result["contract"]["id"],
                                                    org_id=request.user.org_id, roles=frozenset(request.user.roles)))


# ---- pages -------------------------------------------------------------------------------


@get("/contracts/verify", opt=PUBLIC, include_in_schema=False)
async def verify_page(request: Request) -> Response:
    return page(request, "contracts/verify.html", result=None, error=None)


@post("/contracts/verify", opt=PUBLIC_READ_ONLY, include_in_schema=False, request_max_body_size=VERIFY_LIMIT)
async def verify_submit(request: Request,
                        data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
    try:
        result = await _verify_upload(data)
    except DomainError as exc:
        return page(request, "contracts/verify.html", status_code=exc.status_code, result=None,
                    error=error_body(exc.code, exc.message, exc.params))
    return page(request, "contracts/verify.html", result=result, error=None)


api_router = Router(path="/api/v1", route_handlers=[api_verify, api_contract, api_contract_pdf, api_sign], tags=["contracts"])
router = Router(path="/", route_handlers=[api_router, verify_page, verify_submit])
