"""HTML → PDF: the only module that imports WeasyPrint.

Documents are Chinese, so every page uses a CJK font that is embedded as a subset (Debian's
fonts-noto-cjk through fontconfig; libharfbuzz-subset0 keeps subsetting at a fraction of a second
instead of ~12 s). `@page` margin boxes (page numbers, running headers) do not inherit the body's
font, so the base stylesheet names the font for them explicitly.

Rendering is synchronous and CPU-heavy: it runs in job worker threads only. Calling it from a
thread that runs an event loop (a request handler) raises, so a slip shows up in tests instead of as
a web server that stalls for every request while a contract renders.

Each rendering thread keeps its font configuration and the parsed base stylesheet: building them
was a tenth of a render (bench/checkout.py), and the bytes come out the same either way (the test
renders twice and compares). A document declaring its own @font-face gets a fresh configuration,
since WeasyPrint adds such fonts to the configuration it is given, and the next document must not
see them.
"""

from __future__ import annotations

import asyncio
import threading

import weasyprint
from weasyprint.text.fonts import FontConfiguration

# Serif (宋体-like) is what Chinese contracts and invoices are printed in; Sans is the fallback.
CJK_FONT = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", serif'
_MARGIN_BOXES = ("top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right")

BASE_CSS = f"""
@page {{
  size: A4;
  margin: 22mm 18mm 20mm 18mm;
  font-family: {CJK_FONT};
  {' '.join(f'@{box} {{ font-family: {CJK_FONT}; font-size: 8.5pt; color: #555; }}' for box in _MARGIN_BOXES)}
}}
html {{ font-family: {CJK_FONT}; font-size: 10.5pt; line-height: 1.6; }}
"""


class RenderOnEventLoop(RuntimeError):
    """render_pdf was called where it would block an event loop (a request path)."""


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_local = threading.local()  # WeasyPrint's font configuration is not shared between threads


def _fonts_and_base(html: str) -> tuple[FontConfiguration, weasyprint.CSS]:
    if "@font-face" in html:
        fonts = FontConfiguration()
        return fonts, weasyprint.CSS(string=BASE_CSS, font_config=fonts)
    cached = getattr(_local, "fonts_and_base", None)
    if cached is None:
        fonts = FontConfiguration()
        cached = _local.fonts_and_base = (fonts, weasyprint.CSS(string=BASE_CSS, font_config=fonts))
    return cached


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document, with the CJK font embedded as a subset."""
    if _on_event_loop():
        raise RenderOnEventLoop("render_pdf blocks for a fraction of a second or more: call it from a job")
    fonts, base = _fonts_and_base(html)
    document = weasyprint.HTML(string=html, base_url=base_url)
    # the base sheet comes first, so a template's own rules (sizes, margins, its header) win
    return document.write_pdf(stylesheets=[base], font_config=fonts)
