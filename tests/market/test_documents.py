"""Documents: PDF rendering with an embedded CJK subset font, rendering through the job path
(idempotent), signatures over the exact bytes issued, and verification of any PDF."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path

import pytest

from factories import make_org
from market import documents, jobs, pdf, runtime
from market.errors import Conflict, DomainError, Forbidden
from market.tables import AuditEvent, Document, OutboxMessage, Signature

ROOT = Path(__file__).resolve().parents[2]
STATEMENT = "<h1>对账单 {{ number }}</h1><p>{{ org }} 应付 {{ amount|fen }}（人民币{{ amount|daxie }}）</p>"


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def pdffonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def statement_template(tmp_path, monkeypatch):
    """A one-paragraph template in a templates folder of its own: quick to render."""
    folder = tmp_path / "templates" / "pdf" / "statement"
    folder.mkdir(parents=True)
    (folder / "v1.html").write_text(STATEMENT, encoding="utf-8")
    monkeypatch.setattr(documents, "TEMPLATES", tmp_path / "templates")
    monkeypatch.setattr(documents, "_env", None)
    return folder


async def _statement(org_a: dict, org_b: dict, **extra) -> dict:
    return await documents.create_document(
        kind="statement", context={"number": "ST-2026-01", "org": org_a["name"], "amount": 1234567},
        title="对账单 ST-2026-01", subject_type="test", subject_id="1",
        parties=[{"role": "holder", "org_id": org_a["id"], "name": org_a["name"], "credit_code": org_a["credit_code"]},
                 {"role": "platform", "org_id": org_b["id"], "name": org_b["name"],
                  "credit_code": org_b["credit_code"]}], **extra)


def test_render_pdf_embeds_a_subset_cjk_font(tmp_path):
    data = pdf.render_pdf("<style>@page { @bottom-center { content: '第 ' counter(page) ' 页' } }</style>"
                          "<h1>数据产品购买合同</h1><p>壹万贰仟叁佰肆拾伍元陆角柒分</p>")
    assert data.startswith(b"%PDF-")
    text = pdftotext(data)
    assert "数据产品购买合同" in text and "壹万贰仟叁佰肆拾伍元陆角柒分" in text and "第1页" in text
    fonts = [line.split() for line in pdffonts(data, tmp_path).splitlines()[2:]]
    cjk = [f for f in fonts if "CJK" in f[0]]
    # name, …, emb, sub, uni: a subset font is named ABCDEF+Name and marked embedded and subset
    assert cjk and all(f[-5] == "yes" and f[-4] == "yes" and "+" in f[0] for f in cjk), fonts


def test_page_margin_boxes_use_the_simplified_chinese_font(tmp_path):
    """Margin boxes do not inherit the body's font: left alone, fontconfig's fallback picks a
    Japanese CJK face (different glyph shapes for the same characters)."""
    data = pdf.render_pdf("<style>@page { @bottom-center { content: '第一页 合同编号' } }</style><p>abc</p>")
    names = [line.split()[0].split("+")[-1] for line in pdffonts(data, tmp_path).splitlines()[2:]]
    cjk = [n for n in names if "CJK" in n]
    assert cjk == ["Noto-Serif-CJK-SC"], names


async def test_render_pdf_refuses_to_run_on_an_event_loop():
    with pytest.raises(pdf.RenderOnEventLoop):
        pdf.render_pdf("<p>合同</p>")


def test_used_templates_are_never_edited():
    """A used template is never edited (a change is a new version): every file listed in
    templates/pdf/SHA256SUMS still has its recorded digest, and every version file is listed."""
    pdf_dir = ROOT / "templates" / "pdf"
    listed = {}
    for line in (pdf_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split()
        listed[name] = digest
    for name, digest in listed.items():
        assert hashlib.sha256((pdf_dir / name).read_bytes()).hexdigest() == digest, f"{name} was edited"
    versions = {p.relative_to(pdf_dir).as_posix() for p in pdf_dir.glob("*/v*.html")}
    assert versions == set(listed), "record a new template version in templates/pdf/SHA256SUMS"


async def test_document_renders_through_the_job_once(statement_template, job_runtime):
    a, b = await make_org(), await make_org()
    row = await _statement(a, b)
    assert row["status"] == "pending" and row["template"] == "pdf/statement/v1.html" and row["template_version"] == 1
    await job_runtime.drain(timeout=120)
    done = await documents.get_document(row["id"])
    assert done["status"] == "rendered" and done["rendered_at"] is not None
    data = runtime.storage().get_bytes(done["storage_key"])
    assert hashlib.sha256(data).hexdigest() == done["sha256"] and len(data) == done["size"]
    text = "".join(pdftotext(data).split())
    assert a["name"] in text and "¥12,345.67" in text and "壹万贰仟叁佰肆拾伍元陆角柒分" in text
    assert await documents.pdf_bytes(row["id"]) == data

    # delivered again (at least once delivery): nothing changes
    await jobs.enqueue(documents.render_document_job, document_id=row["id"])
    await job_runtime.drain(timeout=120)
    again = await documents.get_document(row["id"])
    assert (again["sha256"], again["storage_key"], again["rendered_at"]) == (
        done["sha256"], done["storage_key"], done["rendered_at"])
    assert await AuditEvent.count().where(AuditEvent.action == "document.rendered") == 1


async def test_on_rendered_job_is_enqueued_with_the_document(statement_template, job_runtime):
    from contracts import tasks

    a, b = await make_org(), await make_org()
    row = await _statement(a, b, on_rendered=tasks.contract_rendered)
    await job_runtime.drain(timeout=120)
    told = await OutboxMessage.select(OutboxMessage.kwargs).where(
        OutboxMessage.actor_name == "contracts.contract_rendered")
    assert [m["kwargs"] for m in told] == [f'{{"document_id": {row["id"]}}}']


async def test_a_context_the_template_cannot_render_is_refused_and_nothing_is_kept(statement_template):
    a = await make_org()
    with pytest.raises(DomainError) as err:
        await documents.create_document(kind="statement", context={"number": "X"},
                                        parties=[{"role": "holder", "org_id": a["id"]}])
    assert err.value.code == "document.bad_context"
    with pytest.raises(DomainError) as err:
        await documents.create_document(kind="statement", context={"number": "X", "org": "o", "amount": 1},
                                        template_version=2)
    assert err.value.code == "document.no_template"
    with pytest.raises(ValueError):
        await documents.create_document(kind="no_such_kind", context={})
    assert await Document.count() == 0
    assert await OutboxMessage.count().where(OutboxMessage.actor_name == "market.render_document") == 0


async def test_signing_records_the_bytes_the_ip_and_the_audit_event(statement_template, job_runtime):
    a, b = await make_org(), await make_org()
    row = await _statement(a, b)

    # before the PDF exists nobody can sign it
    with pytest.raises(Conflict) as err:
        await documents.sign(document_id=row["id"], party_role="holder", org_id=a["id"], user_id=None, ip="10.0.0.1")
    assert err.value.code == "document.not_rendered"

    await job_runtime.drain(timeout=120)
    doc = await documents.get_document(row["id"])
    sig = await documents.sign(document_id=row["id"], party_role="holder", org_id=a["id"], user_id=None,
                               ip="10.0.0.1", expected_sha256=doc["sha256"])
    assert sig["sha256"] == doc["sha256"] and sig["ip"] == "10.0.0.1" and sig["party_role"] == "holder"
    event = await (AuditEvent.select().where(AuditEvent.action == "document.signed")
                   .where(AuditEvent.object_id == str(row["id"])).first())
    assert doc["sha256"] in event["after"] and "10.0.0.1" in event["after"]

    before = (await Signature.count(), await AuditEvent.count())
    refusals = [
        (dict(party_role="holder", org_id=a["id"]), Conflict, "document.already_signed"),
        (dict(party_role="platform", org_id=a["id"]), Forbidden, "document.not_party"),  # a's role is holder
        (dict(party_role="buyer", org_id=a["id"]), Forbidden, "document.not_party"),
    ]
    for kwargs, exc, code in refusals:
        with pytest.raises(exc) as err:
            await documents.sign(document_id=row["id"], user_id=None, ip="10.0.0.2", **kwargs)
        assert err.value.code == code
    with pytest.raises(Conflict) as err:
        await documents.sign(document_id=row["id"], party_role="platform", org_id=b["id"], user_id=None,
                             expected_sha256="0" * 64)
    assert err.value.code == "document.hash_mismatch"
    assert (await Signature.count(), await AuditEvent.count()) == before


async def test_verify_tells_issued_bytes_from_altered_or_foreign_ones(statement_template, job_runtime):
    a, b = await make_org(), await make_org()
    row = await _statement(a, b)
    await job_runtime.drain(timeout=120)
    data = await documents.pdf_bytes(row["id"])
    await documents.sign(document_id=row["id"], party_role="holder", org_id=a["id"], user_id=None, ip="10.0.0.9")

    result = await documents.verify(data)
    assert result["issued"] and result["document"]["id"] == row["id"] and result["document"]["issued_at"]
    assert {p["name"] for p in result["parties"]} == {a["name"], b["name"]}
    assert [(s["party_role"], s["organization"]) for s in result["signatures"]] == [("holder", a["name"])]
    assert "ip" not in result["signatures"][0]  # the public answer does not name the signer's address

    for i in (0, len(data) // 2, len(data) - 1):
        tampered = bytearray(data)
        tampered[i] ^= 0x01
        assert (await documents.verify(bytes(tampered)))["issued"] is False
    foreign = await asyncio.to_thread(pdf.render_pdf, STATEMENT)
    assert (await documents.verify(foreign))["issued"] is False
    assert (await documents.verify(b""))["issued"] is False
    assert (await documents.verify_digest("not-a-digest"))["issued"] is False


async def test_a_stored_pdf_that_changed_is_not_served(statement_template, job_runtime):
    a, b = await make_org(), await make_org()
    row = await _statement(a, b)
    await job_runtime.drain(timeout=120)
    doc = await documents.get_document(row["id"])
    runtime.storage().put_bytes(doc["storage_key"], b"%PDF-1.7 something else", content_type="application/pdf")
    with pytest.raises(DomainError) as err:
        await documents.pdf_bytes(row["id"])
    assert err.value.code == "document.corrupt"


async def test_digest_stream_reads_in_chunks_and_bounds_the_size():
    payload = bytes(range(256)) * 1000
    chunks = []

    async def read(n: int) -> bytes:
        chunk = payload[sum(chunks):sum(chunks) + n]
        chunks.append(len(chunk))
        return chunk

    digest, size = await documents.digest_stream(read, chunk=10_000)
    assert (digest, size) == (hashlib.sha256(payload).hexdigest(), len(payload))
    assert max(chunks) <= 10_000 and len(chunks) > 2
    chunks.clear()
    with pytest.raises(DomainError) as err:
        await documents.digest_stream(read, limit=50_000, chunk=10_000)
    assert err.value.code == "document.too_large" and err.value.status_code == 413
