"""HTML → PDF: the only module that imports WeasyPrint.

Documents are Chinese, so every page uses a CJK font that is embedded as a subset (Debian's
fonts-noto-cjk through fontconfig; libharfbuzz-subset0 keeps subsetting at a fraction of a second
instead of ~12 s). `@page` margin boxes (page numbers, running headers) do not inherit the body's
font, so the base stylesheet names the font for them explicitly.

Rendering is synchronous and CPU-heavy: it runs in job worker threads only. Calling it from a
thread that runs an event loop (a request handler) raises, so a slip shows up in tests instead of as
a web server that stalls for every request while a contract renders.

The documents' own font. WeasyPrint subsets every font a PDF uses, reading the whole font file each
time: Debian's Noto Serif CJK is a 26 MB collection of 65,535 glyphs, and copying, subsetting and
compressing it was nearly half of a contract's rendering. scripts/pdf_fonts.py (run by `make setup`)
cuts it down to GB 2312 and the frequent characters, as the family FONT_FAMILY in build/fonts/; the
base stylesheet declares it with @font-face when the files are there. Templates from v2 on name it first and the full system font after it, so a
character outside it (喆 in a name) is still drawn, from the system font. Version 1 templates do not
name it and render exactly as before (tests/market/test_pdf_fonts.py compares the bytes). Without
the files the family does not exist and every template falls back to the system font: slower, same
text.

Each rendering thread keeps its font configuration and the parsed base stylesheet (with its
@font-face rules, so the font files are loaded once per thread): building them was a tenth of a
render (bench/checkout.py), and the bytes come out the same either way (the test renders twice and
compares). A document declaring its own @font-face gets a fresh configuration, since WeasyPrint adds
such fonts to the configuration it is given, and the next document must not see them.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import weasyprint
from weasyprint.text.fonts import FontConfiguration

# Serif (宋体-like) is what Chinese contracts and invoices are printed in; Sans is the fallback.
CJK_FONT = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", serif'
_MARGIN_BOXES = ("top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right")

# The subset font built by scripts/pdf_fonts.py. Its family name is its own, so fontconfig never
# takes it for "Noto Serif CJK SC", which version 1 templates (and old documents) name.
FONT_FAMILY = "Market Serif CJK SC"
FONT_DIR = Path(__file__).resolve().parent.parent / "build" / "fonts"
FONT_FILES = {"Regular": "MarketSerifCJKSC-Regular.otf", "Bold": "MarketSerifCJKSC-Bold.otf"}
_FONT_WEIGHTS = {"Regular": "normal", "Bold": "bold"}
# what templates from v2 on name (the subset first, the full font for what it lacks); a template is
# frozen text, so each writes it out, and tests/market/test_pdf_fonts.py checks they do
DOCUMENT_FONT = f'"{FONT_FAMILY}", {CJK_FONT}'

BASE_CSS = f"""
@page {{
  size: A4;
  margin: 22mm 18mm 20mm 18mm;
  font-family: {CJK_FONT};
  {' '.join(f'@{box} {{ font-family: {CJK_FONT}; font-size: 8.5pt; color: #555; }}' for box in _MARGIN_BOXES)}
}}
html {{ font-family: {CJK_FONT}; font-size: 10.5pt; line-height: 1.6; }}
"""


def font_faces() -> str:
    """@font-face rules for the subset font files that exist (none when scripts/pdf_fonts.py did not run)."""
    faces = []
    for style, name in FONT_FILES.items():
        path = FONT_DIR / name
        if path.is_file():
            faces.append(f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{path.as_uri()}"); '
                         f"font-weight: {_FONT_WEIGHTS[style]}; }}")
    return "\n".join(faces)


def has_document_font() -> bool:
    return all((FONT_DIR / name).is_file() for name in FONT_FILES.values())


class RenderOnEventLoop(RuntimeError):
    """render_pdf was called where it would block an event loop (a request path)."""


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_local = threading.local()  # WeasyPrint's font configuration is not shared between threads


def _new_fonts_and_base() -> tuple[FontConfiguration, weasyprint.CSS]:
    fonts = FontConfiguration()
    # WeasyPrint loads a sheet's @font-face fonts into `fonts` as it parses the sheet: the thread's
    # cached configuration has the subset font from then on
    return fonts, weasyprint.CSS(string=font_faces() + BASE_CSS, font_config=fonts)


def _fonts_and_base(html: str) -> tuple[FontConfiguration, weasyprint.CSS]:
    if "@font-face" in html:
        return _new_fonts_and_base()
    cached = getattr(_local, "fonts_and_base", None)
    if cached is None:
        cached = _local.fonts_and_base = _new_fonts_and_base()
    return cached


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document, with the CJK font embedded as a subset."""
    if _on_event_loop():
        raise RenderOnEventLoop("render_pdf blocks for a fraction of a second or more: call it from a job")
    fonts, base = _fonts_and_base(html)
    document = weasyprint.HTML(string=html, base_url=base_url)
    # the base sheet comes first, so a template's own rules (sizes, margins, its header) win
    return document.write_pdf(stylesheets=[base], font_config=fonts)
