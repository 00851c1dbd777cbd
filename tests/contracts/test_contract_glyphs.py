"""The purchase contract's current template draws every character it prints, names with characters
outside the platform's subset font (scripts/pdf_fonts.py) included: those come from the full system font."""

from __future__ import annotations

from contract_factories import pdffonts, pdftotext, terms_for
from contracts import _terms
from market import documents, pdf
from pdf_glyphs import drawn_characters, ensure_document_font


def test_every_character_of_a_contract_naming_rare_characters_is_drawn(tmp_path):
    ensure_document_font()
    assert pdf.has_document_font()
    buyer = {"id": 1, "name": "杭州喆玥数据科技有限公司", "credit_code": "91330100MA27XL6Y7K"}
    holder = {"id": 2, "name": "浙江翀𬌗信息有限公司", "credit_code": "11330100002493067N"}
    t = _terms.normalise(terms_for(buyer, holder, buyer={**terms_for(buyer, holder)["buyer"], "contact": "王喆、李堃、陈赟"}))
    version = documents.template_versions("purchase_contract")[-1]
    context = {**t, "number": "HT-2026-000001", "issued_on": "2026-01-01", "issued_on_text": "2026年1月1日"}
    data = pdf.render_pdf(documents.render_html(documents.template_name("purchase_contract", version), context),
                          str(documents.TEMPLATES))
    printed = set("".join(pdftotext(data).split()))
    assert set("喆玥翀𬌗堃赟") <= printed
    assert printed - drawn_characters(data) == set()  # nothing is an empty box
    names = {f[0].split("+")[1] for f in pdffonts(data, tmp_path) if "+" in f[0]}
    assert {"Market-Serif-CJK-SC", "Noto-Serif-CJK-SC"} <= names, names  # the subset, and the system font for 喆
