"""Contract terms as billing will hand them over, and helpers to read the PDFs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from factories import credit_code


def terms_for(buyer: dict, holder: dict, /, **overrides) -> dict:
    terms = {
        "buyer": {"org_id": buyer["id"], "name": buyer["name"], "credit_code": buyer["credit_code"],
                  "address": "杭州市西湖区文三路 100 号", "bank_name": "中国工商银行杭州分行",
                  "bank_account": "1202020209000012345"},
        "holder": {"org_id": holder["id"], "name": holder["name"], "credit_code": holder["credit_code"],
                   "address": "杭州市上城区解放东路 18 号"},
        "platform": {"name": "杭州数据交易所有限公司", "credit_code": credit_code()},
        "product": {"listing_id": 7, "title": "杭州市区县常住人口", "registration_code": "ZJ-HZ-2026-000123",
                    "version": "v3", "tier": "product", "delivery_mode": "file", "plan_name": "按次购买"},
        "purpose": "industry", "purpose_note": "保险精算定价",
        "term": {"start": "2026-01-01", "end": "2026-12-31"},
        "quantity": 1, "unit": "份",
        "price": {"amount_fen": 1_234_567, "tax_fen": 74_074, "total_fen": 1_308_641, "tax_rate_bps": 600},
        "revision_access": "from_start",
        "order_ref": "DD-2026-000042",
    }
    terms.update(overrides)
    return terms


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def flat(text: str) -> str:
    """pdftotext breaks lines inside table cells: compare without any whitespace."""
    return "".join(text.split())


def pdffonts(data: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "contract.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]
