"""Helpers for tests of the documents' fonts: the subset font built when `make setup` has not built it
yet, and which characters a PDF really draws (pdftotext shows a character even when no font had it:
WeasyPrint maps the empty box it draws back to the character), read from the embedded font programs."""

from __future__ import annotations

import importlib.util
import io
import re
import zlib
from pathlib import Path

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]


def font_script():
    """scripts/pdf_fonts.py as a module."""
    spec = importlib.util.spec_from_file_location("pdf_fonts_script", ROOT / "scripts" / "pdf_fonts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_document_font():
    """Build the subset font unless it is up to date (about a minute the first time, then nothing)."""
    script = font_script()
    script.build()
    return script


def drawn_characters(data: bytes) -> set[str]:
    """Characters some embedded font program maps to a glyph with an outline. A character no font
    had is drawn as an empty box and is in no embedded font's cmap, though pdftotext still shows it."""
    drawn: set[str] = set()
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            raw = zlib.decompressobj().decompress(data[match.end():data.find(b"endstream", match.end())])
        except zlib.error:
            continue
        if raw[:4] not in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
            continue
        font = TTFont(io.BytesIO(raw))
        glyphs = font.getGlyphSet()
        for code, name in font.getBestCmap().items():
            pen = BoundsPen(glyphs)
            glyphs[name].draw(pen)
            if pen.bounds is not None:
                drawn.add(chr(code))
    return drawn
