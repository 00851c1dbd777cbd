"""The documents' subset font (scripts/pdf_fonts.py, declared by market/pdf.py's base stylesheet):
templates from v2 on draw from it, every character still drawn (rare ones from the full system font),
and documents that do not name it render byte for byte as before it existed."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from market import documents, pdf
from pdf_glyphs import drawn_characters, ensure_document_font

RARE = "喆玥翀𬌗"  # outside GB 2312 and the 7,000 frequent characters; 𬌗 is outside the BMP too


@pytest.fixture(scope="module")
def document_font():
    """The subset font, built here when `make setup` did not build it yet (a minute, once)."""
    script = ensure_document_font()
    assert pdf.has_document_font()
    return script


def _in_fresh_thread(html: str) -> bytes:
    """A thread of its own: a fresh font configuration, as a new worker thread has."""
    out: list[bytes] = []
    thread = threading.Thread(target=lambda: out.append(pdf.render_pdf(html, str(documents.TEMPLATES))))
    thread.start()
    thread.join()
    return out[0]


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def pdffont_names(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines()[2:]]


def _page(text: str, family: str) -> str:
    return (f"<style>@page {{ @bottom-center {{ content: '第 ' counter(page) ' 页'; font-family: {family} }} }}"
            f"html {{ font-family: {family} }} h1 {{ font-weight: bold }}</style>"
            f"<h1>数据产品购买合同</h1><p>{text}</p>")


def test_the_build_is_idempotent_and_the_font_has_its_own_name(document_font):
    assert document_font.build() is False  # up to date: nothing rebuilt
    for file in pdf.FONT_FILES.values():
        font = TTFont(pdf.FONT_DIR / file)
        assert font["name"].getDebugName(1) == pdf.FONT_FAMILY  # never taken for "Noto Serif CJK SC"
        cmap = font.getBestCmap()
        assert all(ord(ch) in cmap for ch in "甲乙双方壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整，。（）：ⓧ¥")
        assert not any(ord(ch) in cmap for ch in RARE)


def test_templates_from_v2_name_the_subset_font_first(document_font):
    for kind in ("purchase_contract", "invoice"):
        source = (documents.TEMPLATES / "pdf" / kind / "v2.html").read_text(encoding="utf-8")
        families = re.findall(r"font-family:\s*([^;}]+)", source)
        assert families and all(f.strip() == pdf.DOCUMENT_FONT for f in families), (kind, families)


def test_common_text_is_drawn_from_the_subset_font_alone(document_font, tmp_path):
    text = "甲方应按照数据分类分级要求落实访问控制。价税合计（大写）壹万叁仟零捌拾陆元肆角壹分"
    data = _in_fresh_thread(_page(text, pdf.DOCUMENT_FONT))
    names = pdffont_names(data, tmp_path)
    assert names and all("+" in n and n.split("+")[1].startswith("Market-Serif-CJK-SC") for n in names), names
    assert text in "".join(pdftotext(data).split())
    assert set(text + "数据产品购买合同第页1") <= drawn_characters(data)


def test_rare_characters_outside_the_subset_are_drawn_from_the_system_font(document_font, tmp_path):
    # 堃 and 赟 are frequent enough to be in the subset; the others are not
    text = f"联系人：王{RARE[0]}、周{RARE[1]}、刘{RARE[2]}、张{RARE[3]}、李堃、陈赟"
    data = _in_fresh_thread(_page(text, pdf.DOCUMENT_FONT))
    assert text in "".join(pdftotext(data).split())
    assert set(text) <= drawn_characters(data)  # no empty boxes
    names = {n.split("+")[1] for n in pdffont_names(data, tmp_path)}
    assert {"Market-Serif-CJK-SC", "Noto-Serif-CJK-SC"} <= names, names  # both embedded, as subsets


def test_without_the_font_files_documents_render_from_the_system_font(document_font, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path / "no-fonts")
    assert not pdf.has_document_font() and pdf.font_faces() == ""
    text = f"甲方：杭州市卫生健康委员会，联系人王{RARE[0]}"
    data = _in_fresh_thread(_page(text, pdf.DOCUMENT_FONT))
    assert text in "".join(pdftotext(data).split()) and set(text) <= drawn_characters(data)
    assert {n.split("+")[1] for n in pdffont_names(data, tmp_path)} == {"Noto-Serif-CJK-SC",
                                                                         "Noto-Serif-CJK-SC-Bold"}


def test_documents_that_do_not_name_the_font_render_the_same_bytes_as_before_it(document_font, tmp_path,
                                                                               monkeypatch):
    """Version 1 templates (and every old document) name the system font only: declaring the subset
    beside it must not move a byte, rare characters included."""
    pages = [_page(f"价税合计壹万贰仟叁佰肆拾伍元陆角柒分，联系人王{RARE}", pdf.CJK_FONT),
             "<style>@page { @top-right { content: '合同编号：HT-2026-000001' } }</style><p>甲方（买方）</p>"]
    with_font = [_in_fresh_thread(html) for html in pages]
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path / "no-fonts")
    assert [_in_fresh_thread(html) for html in pages] == with_font


def test_a_document_with_its_own_font_face_still_gets_the_subset_font(document_font, tmp_path):
    html = ("<style>@font-face { font-family: Mine; src: local('Noto Sans CJK SC') }</style>"
            + _page("甲方乙方", pdf.DOCUMENT_FONT) + "<p style='font-family: Mine'>丙方</p>")
    names = {n.split("+")[1] for n in pdffont_names(_in_fresh_thread(html), tmp_path)}
    assert "Market-Serif-CJK-SC" in names, names
