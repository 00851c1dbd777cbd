"""PDF rendering cost: a purchase contract and an invoice rendered N times each, against WeasyPrint
rendering a bare one-line Chinese page in the same run (the floor any document pays), in one thread.

    .venv/bin/python bench/pdf.py [--n 10] [--version latest|1|2…] [--out DIR]

The documents are rendered the way the documents job renders them (market.documents.render_html, then
market.pdf.render_pdf in a thread that keeps its font configuration), from the latest template version
of each kind unless --version names one; --out writes the last PDF of each kind there to look at.
Wall time is what a worker sees on a loaded machine; CPU time (process time) is steadier and is what
2 CPUs shared by the workers run out of. The machine's load average is printed: compare runs made at
similar loads, or compare CPU times (cpu_ratio), which the load affects less.

stderr: progress. Last stdout line: JSON {"bench":"pdf","renders_per_s","ms_per_render","cpu_ms_per_render",
"bare_ms","bare_cpu_ms","ratio" (ms_per_render / bare_ms),"cpu_ratio","per_kind":{kind: {"ms","cpu_ms","bytes","version"}},
"n","loadavg"}. The averages are of purchase_contract and invoice; contract_rare is a contract naming a
contact with characters outside the subset font, which then embeds the full system font as well.
"""

from __future__ import annotations

import os
import sys

# Run as a script, bench/ is sys.path[0] and bench/http.py would shadow the standard library's `http`.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from market import documents, pdf  # noqa: E402

BARE = "<!DOCTYPE html><html lang='zh-CN'><meta charset='utf-8'><p>数据产品购买合同</p></html>"

BUYER = {"org_id": 1, "name": "浙江安诚财产保险股份有限公司", "credit_code": "91330106572134901G",
         "address": "杭州市西湖区文三路 100 号", "bank_name": "中国工商银行杭州分行", "bank_account": "1202020209000012345"}
# contacts with characters outside GB 2312 (喆 and 𬌗, outside the BMP, are outside the subset font too;
# 堃 and 赟 are frequent enough to be in it): the document then needs the full system font beside the
# subset, measured apart as "contract_rare"
RARE_CONTACT = "王喆、李堃、陈赟、张𬌗"
HOLDER = {"org_id": 2, "name": "杭州市卫生健康委员会", "credit_code": "113301000024701292",
          "address": "杭州市上城区解放东路 18 号"}


def contract_context(contact: str = "") -> dict:
    from contracts import _terms  # the contract's printed terms, as the contracts service freezes them

    terms = _terms.normalise({
        "buyer": {**BUYER, "contact": contact} if contact else BUYER, "holder": HOLDER,
        "platform": {"name": "杭州数据交易所有限公司", "credit_code": "91330100MA2KXXXX0X"},
        "product": {"listing_id": 7, "title": "杭州市区县常住人口", "registration_code": "ZJ-HZ-2026-000123",
                    "version": "v3", "tier": "product", "delivery_mode": "file", "plan_name": "按次购买"},
        "purpose": "industry", "purpose_note": "保险精算定价",
        "term": {"start": "2026-01-01", "end": "2026-12-31"}, "quantity": 1, "unit": "份",
        "price": {"amount_fen": 1_234_567, "tax_fen": 74_074, "total_fen": 1_308_641, "tax_rate_bps": 600},
        "revision_access": "from_start", "order_ref": "DD-2026-000042",
    })
    day = date(2026, 12, 7)
    return {**terms, "number": "HT-2026-000001", "issued_on": day.isoformat(),
            "issued_on_text": _terms.chinese_date(day)}


def invoice_context() -> dict:
    # the shape billing/invoices/_document.py:context makes, amounts already written out
    party = ("name", "credit_code", "address", "phone", "bank_name", "bank_account")
    seller = {"name": "杭州数据交易所有限公司", "credit_code": "91330100MA2KXXXX0X", "address": "杭州市滨江区网商路 699 号",
              "phone": "0571-88888888", "bank_name": "中国工商银行杭州分行营业部", "bank_account": "3301 0400 0000 0000 0000"}
    return {
        "title": "电子发票（普通发票）", "number": "26332000000000000042", "kind": "blue", "red": False,
        "original_number": "", "issued_on": "2026-12-07", "issued_on_text": "2026年12月07日",
        "seller": seller, "buyer": {k: BUYER.get(k, "") for k in party},
        "lines": [{"item": "*信息技术服务*数据产品", "spec": "", "unit": "份", "quantity": "1", "unit_price": "12345.67",
                   "amount": "12345.67", "tax_rate": "6%", "tax": "740.74"}],
        "amount_text": "¥12345.67", "tax_text": "¥740.74", "total_text": "¥13086.41",
        "total_upper": "壹万叁仟零捌拾陆元肆角壹分",
        "remarks": "订单 DD-2026-000042；登记编码 ZJ-HZ-2026-000123；付款参考号 SJ7K3M9QXA4", "issuer": "杭州数据交易所有限公司",
    }


def _timed(html: str, n: int) -> tuple[float, float, bytes]:
    """Median wall and CPU seconds of n renders, and the last PDF."""
    walls, cpus, data = [], [], b""
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        data = pdf.render_pdf(html, str(documents.TEMPLATES))
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--version", default="latest")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    kinds = {"purchase_contract": contract_context(), "invoice": invoice_context(),
             "contract_rare": contract_context(RARE_CONTACT)}
    pdf.render_pdf(BARE)  # warm: WeasyPrint's imports, fontconfig, the thread's font configuration
    bare_ms, bare_cpu_ms, _ = (x * 1000 if isinstance(x, float) else x for x in _timed(BARE, args.n))
    per_kind = {}
    for kind, context in kinds.items():
        template_kind = "purchase_contract" if kind == "contract_rare" else kind
        version = documents.template_versions(template_kind)[-1] if args.version == "latest" else int(args.version)
        html = documents.render_html(documents.template_name(template_kind, version), context)
        pdf.render_pdf(html, str(documents.TEMPLATES))  # warm: this document's fonts and images
        wall, cpu, data = _timed(html, args.n)
        per_kind[kind] = {"ms": round(wall * 1000, 1), "cpu_ms": round(cpu * 1000, 1), "bytes": len(data),
                          "version": version}
        print(f"{kind} v{version}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, {len(data)} bytes",
              file=sys.stderr)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{kind}-v{version}.pdf").write_bytes(data)
    # the figure is the common case, a contract and an invoice; the rare-character contract is beside it
    common = [per_kind["purchase_contract"], per_kind["invoice"]]
    ms = statistics.mean(k["ms"] for k in common)
    cpu_ms = statistics.mean(k["cpu_ms"] for k in common)
    print(f"bare page: {bare_ms:.0f} ms wall, {bare_cpu_ms:.0f} ms CPU; documents {ms:.0f} ms "
          f"({1000 / ms:.1f} renders/s in one thread), {ms / bare_ms:.1f}× the bare page", file=sys.stderr)
    print(json.dumps({
        "bench": "pdf", "renders_per_s": round(1000 / ms, 2), "ms_per_render": round(ms, 1),
        "cpu_ms_per_render": round(cpu_ms, 1), "bare_ms": round(bare_ms, 1), "bare_cpu_ms": round(bare_cpu_ms, 1),
        "ratio": round(ms / bare_ms, 2), "cpu_ratio": round(cpu_ms / bare_cpu_ms, 2), "per_kind": per_kind, "n": args.n,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
