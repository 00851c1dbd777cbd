"""Order snapshots as the order service will hand them to `issue_invoice`, and a 大写 reader."""

from __future__ import annotations

import subprocess
from pathlib import Path

from billing import invoices


def snapshot_for(buyer: dict, /, order_ref: str = "DD-2026-000042", **overrides) -> dict:
    snapshot = {
        "order_ref": order_ref, "order_id": 42,
        "seller": invoices.platform_seller(),
        "buyer": {"org_id": buyer["id"], "name": buyer["name"], "credit_code": buyer["credit_code"],
                  "address": "杭州市西湖区文三路 100 号"},
        "lines": [{"item": invoices.DEFAULT_ITEM, "spec": "", "unit": "份", "quantity": 1,
                   "unit_price_fen": 1_234_567, "amount_fen": 1_234_567, "tax_rate_bps": 600, "tax_fen": 74_074}],
        "registration_code": "ZJ-HZ-2026-000123", "listing_title": "杭州市区县常住人口",
        "payment": {"reference": "SJ7K3M9QXA4", "account_name": "杭州数据交易所有限公司",
                    "account_number": "3301 0400 0000 0000 0000", "bank": "中国工商银行杭州分行营业部"},
    }
    snapshot.update(overrides)
    return snapshot


_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _read_section(text: str) -> int:
    """壹仟零肆 → 1004 (a section below 万)."""
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL:
            total += digit * _SMALL[ch]
            digit = 0
        else:
            raise ValueError(f"unexpected {ch!r} in {text!r}")
    return total + digit


def _read_integer(text: str) -> int:
    if "亿" in text:
        high, low = text.rsplit("亿", 1)
        return _read_integer(high) * 10**8 + (_read_integer(low) if low else 0)
    if "万" in text:
        high, low = text.split("万", 1)
        return _read_section(high) * 10**4 + (_read_section(low) if low else 0)
    return _read_section(text)


def read_daxie(text: str) -> int:
    """Parse 大写金额 back to 分, written independently of market.money: 负壹万零贰元叁角 → -1000230."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    if text == "零元整":
        return 0
    yuan, fen = 0, 0
    if "元" in text:
        head, text = text.split("元", 1)
        yuan = _read_integer(head)
    text = text.removesuffix("整").lstrip("零")
    if "角" in text:
        head, text = text.split("角", 1)
        fen += _DIGITS[head] * 10
    if "分" in text:
        fen += _DIGITS[text.removesuffix("分")]
    return sign * (yuan * 100 + fen)


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def flat(text: str) -> str:
    return "".join(text.split())


def pdffonts(data: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]
