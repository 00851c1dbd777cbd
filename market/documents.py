"""Documents the platform issues as PDFs (contracts, invoices, credit notes, statements,
authorization agreements) and the signatures parties put on them.

- A document is rendered from a versioned template `templates/pdf/<kind>/v<N>.html` and a context
  frozen as JSON when it is created. A template that was used is never edited (a change is a new
  version file, see templates/pdf/SHA256SUMS), and the version is stored on the document, so an old
  document renders the same forever.
- `create_document` records it and enqueues `render_document` in the same transaction; the job
  renders the PDF (WeasyPrint, in a worker thread), stores it and records its sha256. Running the
  job twice changes nothing. The owner of a document (a contract, an invoice) may name a job to be
  told `{document_id}` once it is rendered: a package above market learns of the event by message,
  never by market importing it.
- `sign` records one party's signature over the exact bytes issued, into the audit chain.
- `verify` answers, for any PDF, whether the platform issued exactly these bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from market import audit, db, jobs, runtime
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_
from market.money import Money
from market.tables import Document, DocumentKind, DocumentStatus, Signature

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PDF_DIR = "pdf"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]{0,3})\.html$")
MAX_VERIFY_BYTES = 20 * 1024 * 1024  # a contract or invoice is well under 1 MB; 20 MB bounds the hashing
PDF_CONTENT_TYPE = "application/pdf"


# ---- templates -------------------------------------------------------------------------------


def _fen(amount: int) -> str:
    return Money(int(amount)).format()


def _daxie(amount: int) -> str:
    return Money(int(amount)).to_chinese_upper()


_env: Environment | None = None


def pdf_environment() -> Environment:
    """Jinja for documents: no request, no locale (a document is issued in Chinese), and an undefined
    name is an error, so a context missing a field is refused instead of printing a blank clause."""
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        _env.filters["fen"] = _fen
        _env.filters["daxie"] = _daxie
    return _env


def template_versions(kind: str) -> list[int]:
    folder = TEMPLATES / PDF_DIR / kind
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION_FILE.match(p.name)))


def template_name(kind: str, version: int) -> str:
    return f"{PDF_DIR}/{kind}/v{version}.html"


def render_html(template: str, context: dict) -> str:
    return pdf_environment().get_template(template).render(**context)


# ---- creating and rendering ------------------------------------------------------------------


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a document context must be plain JSON: {exc}") from None


def _check_parties(parties: Iterable[dict]) -> list[dict]:
    out = []
    for p in parties:
        role, org_id = str(p.get("role", "")), p.get("org_id")
        if not role or not isinstance(org_id, int):
            raise ValueError("each party needs a role and an org_id")
        out.append({"role": role, "org_id": org_id, "name": str(p.get("name", "")),
                    "credit_code": str(p.get("credit_code", ""))})
    if len({p["role"] for p in out}) != len(out):
        raise ValueError("a role appears twice among the parties")
    return out


async def create_document(*, kind: str, context: dict, title: str = "", subject_type: str = "",
                          subject_id: str | int = "", parties: Iterable[dict] = (),
                          template_version: int | None = None,
                          on_rendered: Callable | str | None = None) -> dict:
    """Record a document with its frozen context and enqueue its rendering (sent after commit)."""
    kind = DocumentKind(kind).value
    versions = template_versions(kind)
    version = template_version or (versions[-1] if versions else 0)
    if version not in versions:
        raise DomainError("document.no_template", "文件模板不存在：{kind} 第 {version} 版",
                          kind=kind, version=version)
    template = template_name(kind, version)
    frozen = _canonical(context)
    try:
        # cheap (milliseconds): a context the template cannot render is refused before anything is kept
        render_html(template, json.loads(frozen))
    except TemplateError as exc:
        raise DomainError("document.bad_context", "文件内容不完整，无法生成：{detail}", detail=str(exc)) from None
    on_rendered_name = ""
    if on_rendered is not None:
        on_rendered_name = on_rendered if isinstance(on_rendered, str) else on_rendered.job_name
        if on_rendered_name not in jobs.registry():
            raise ValueError(f"unknown job {on_rendered_name!r}")
    checked_parties = _check_parties(parties)
    async with db.atomic():
        rows = await Document.insert(Document(
            kind=kind, title=title[:200], subject_type=subject_type, subject_id=str(subject_id),
            template=template, template_version=version, context=frozen,
            parties=_canonical(checked_parties), on_rendered=on_rendered_name,
        )).returning(*Document.all_columns())
        row = rows[0]
        await audit.record(action="document.created", object_type="document", object_id=row["id"],
                           after={"kind": kind, "template": template, "subject": f"{subject_type}:{subject_id}"})
        await jobs.enqueue(render_document_job, document_id=row["id"])
    return row


async def get_document(document_id: int) -> dict:
    row = await Document.select().where(Document.id == document_id).first()
    if row is None:
        raise NotFound("document.not_found", N_("文件不存在"))
    return row


def _storage_key(row: dict, sha256: str) -> str:
    # the digest is in the key: a second, concurrent render never overwrites the bytes recorded
    return f"documents/{row['kind']}/{row['id']}-{sha256[:16]}.pdf"


async def render_document(document_id: int) -> dict:
    """Render, store and record a document's PDF; does nothing when it is already rendered."""
    from market import pdf  # imported here: only processes that render pay for loading WeasyPrint

    row = await get_document(document_id)
    if row["status"] == DocumentStatus.RENDERED.value:
        return row
    html = render_html(row["template"], json.loads(row["context"]))
    data = await asyncio.to_thread(pdf.render_pdf, html, str(TEMPLATES))
    sha256 = hashlib.sha256(data).hexdigest()
    key = _storage_key(row, sha256)
    store = runtime.storage()
    await asyncio.to_thread(store.put_bytes, key, data, content_type=PDF_CONTENT_TYPE)
    try:
        async with db.atomic():
            done = await db.transition(
                Document, document_id, to=DocumentStatus.RENDERED, action="document.rendered",
                extra={Document.storage_key: key, Document.sha256: sha256, Document.size: len(data),
                       Document.rendered_at: datetime.now(timezone.utc)},
                audit_after={"sha256": sha256, "size": len(data)})
            if row["on_rendered"]:
                await jobs.enqueue(row["on_rendered"], document_id=document_id)
    except Conflict:
        # another run of this job won; keep its bytes, drop ours if they were stored elsewhere
        winner = await get_document(document_id)
        if winner["status"] == DocumentStatus.RENDERED.value:
            if winner["storage_key"] != key:
                await asyncio.to_thread(store.delete, key)
            return winner
        raise
    return {**row, **done, "storage_key": key, "sha256": sha256, "size": len(data)}


@jobs.job(name="market.render_document", queue="documents", max_retries=5)
async def render_document_job(document_id: int) -> None:
    """Render one document's PDF (idempotent)."""
    await render_document(document_id)


async def pdf_bytes(document_id: int) -> bytes:
    """The stored PDF, checked against the digest recorded when it was issued."""
    row = await get_document(document_id)
    if row["status"] != DocumentStatus.RENDERED.value:
        raise Conflict("document.not_rendered", N_("文件正在生成，请稍后再试"))
    data = await asyncio.to_thread(runtime.storage().get_bytes, row["storage_key"])
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        # the object store no longer holds what was issued: never serve it as the document
        raise DomainError("document.corrupt", N_("存储的文件与签发时的摘要不符，已停止提供，请联系平台"),
                          status_code=500)
    return data


# ---- signatures ------------------------------------------------------------------------------


def parties_of(row: dict) -> list[dict]:
    return json.loads(row["parties"] or "[]")


async def sign(*, document_id: int, party_role: str, org_id: int, user_id: int | None, ip: str = "",
               method: str = "in_app", expected_sha256: str | None = None) -> dict:
    """Record one party's signature of a rendered document, audited in the same transaction."""
    async with db.atomic():
        doc = await get_document(document_id)
        if doc["status"] != DocumentStatus.RENDERED.value:
            raise Conflict("document.not_rendered", N_("文件正在生成，生成后才能签署，请稍后再试"))
        party = next((p for p in parties_of(doc) if p["role"] == party_role), None)
        if party is None or party["org_id"] != org_id:
            raise Forbidden("document.not_party", N_("您的机构不是该文件的签署方"))
        if expected_sha256 is not None and expected_sha256.lower() != doc["sha256"]:
            raise Conflict("document.hash_mismatch", N_("您查看的文件与平台签发的文件不一致，请重新下载后再签署"))
        rows = await Signature.insert(Signature(
            document=document_id, key=f"{document_id}:{party_role}", party_role=party_role,
            organization=org_id, user=user_id, method=method, ip=(ip or "")[:64], sha256=doc["sha256"],
            signed_at=datetime.now(timezone.utc),
        )).on_conflict(target=Signature.key, action="DO NOTHING").returning(*Signature.all_columns())
        if not rows:
            raise Conflict("document.already_signed", N_("该签署方已签署过此文件"))
        await audit.record(action="document.signed", object_type="document", object_id=document_id,
                           after={"party": party_role, "org_id": org_id, "user_id": user_id, "ip": ip,
                                  "method": method, "sha256": doc["sha256"], "signature_id": rows[0]["id"]})
    return rows[0]


async def signatures(document_id: int) -> list[dict]:
    return await (Signature.select(*Signature.all_columns(),
                                   Signature.organization.name.as_alias("org_name"),
                                   Signature.user.display_name.as_alias("user_name"))
                  .where(Signature.document == document_id).order_by(Signature.signed_at).order_by(Signature.id))


# ---- verification ----------------------------------------------------------------------------


async def digest_stream(read: Callable[[int], Awaitable[bytes]], *, limit: int = MAX_VERIFY_BYTES,
                        chunk: int = 1 << 20) -> tuple[str, int]:
    """sha256 and size of what `read(n)` yields, in chunks, refusing more than `limit` bytes."""
    h = hashlib.sha256()
    size = 0
    while data := await read(chunk):
        size += len(data)
        if size > limit:
            raise DomainError("document.too_large", N_("文件超过 {mb} MB，不是平台签发的文件"),
                              status_code=413, mb=limit // (1024 * 1024))
        h.update(data)
    return h.hexdigest(), size


async def verify_digest(sha256: str) -> dict:
    """Whether the platform issued a PDF with exactly this sha256, and to whom, when, signed by whom."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        return {"issued": False, "sha256": sha256}
    doc = await (Document.select().where(Document.sha256 == sha256)
                 .where(Document.status == DocumentStatus.RENDERED.value).order_by(Document.id).first())
    if doc is None:
        return {"issued": False, "sha256": sha256}
    names = {p["role"]: p for p in parties_of(doc)}
    return {
        "issued": True, "sha256": sha256,
        "document": {"id": doc["id"], "kind": doc["kind"], "title": doc["title"],
                     "subject_type": doc["subject_type"], "subject_id": doc["subject_id"],
                     "template_version": doc["template_version"], "issued_at": doc["rendered_at"]},
        "parties": [{"role": p["role"], "name": p["name"], "credit_code": p["credit_code"]}
                    for p in parties_of(doc)],
        # public answer: organizations and times, never the signer's IP address
        "signatures": [{"party_role": s["party_role"],
                        "organization": names.get(s["party_role"], {}).get("name") or s["org_name"],
                        "method": s["method"], "signed_at": s["signed_at"],
                        "sha256_matches": s["sha256"] == sha256}
                       for s in await signatures(doc["id"])],
    }


async def verify(pdf: bytes) -> dict:
    """verify_digest for bytes held in memory."""
    return await verify_digest(hashlib.sha256(pdf).hexdigest())

