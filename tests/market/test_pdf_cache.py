"""The per-thread font configuration of market/pdf.py: reusing it must not change a single byte, whatever
the thread rendered before (the sha256 of the bytes is what parties sign)."""

from __future__ import annotations

import hashlib
import threading

from market import pdf

FIRST = "<h1>数据产品购买合同</h1><p>甲方：杭州市卫生健康委员会。乙方：浙江安诚财产保险股份有限公司。</p>"
SECOND = ("<style>@page { @bottom-center { content: '第 ' counter(page) ' 页' } }</style>"
          "<h1>增值税电子普通发票</h1><p>价税合计（大写）壹万贰仟叁佰肆拾伍元陆角柒分</p>")


def _in_fresh_thread(html: str) -> bytes:
    out: list[bytes] = []
    thread = threading.Thread(target=lambda: out.append(pdf.render_pdf(html)))
    thread.start()
    thread.join()
    return out[0]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_thread_that_rendered_other_documents_renders_the_same_bytes():
    def reused() -> list[bytes]:
        return [pdf.render_pdf(FIRST), pdf.render_pdf(SECOND), pdf.render_pdf(FIRST)]

    out: list[list[bytes]] = []
    thread = threading.Thread(target=lambda: out.append(reused()))
    thread.start()
    thread.join()
    first, second, first_again = out[0]
    assert _digest(second) == _digest(_in_fresh_thread(SECOND))
    assert _digest(first) == _digest(first_again) == _digest(_in_fresh_thread(FIRST))


def test_a_document_with_its_own_fonts_does_not_share_the_cached_configuration():
    html = "<style>@font-face { font-family: Mine; src: local('Noto Sans CJK SC') }</style><p style='font-family: Mine'>甲方</p>"
    seen: list[object] = []

    def run() -> None:
        pdf.render_pdf(FIRST)
        cached = pdf._local.fonts_and_base[0]
        pdf.render_pdf(html)
        seen.extend([cached, pdf._local.fonts_and_base[0]])

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen[0] is seen[1]  # the cached one was neither used for nor replaced by the @font-face document
    assert pdf._fonts_and_base(html)[0] is not pdf._fonts_and_base(html)[0]
