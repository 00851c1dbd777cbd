"""Build the documents' CJK font: Noto Serif CJK SC (Regular and Bold) cut down to the characters
Chinese contracts and invoices are written in, renamed "Market Serif CJK SC", into build/fonts/.

Why: WeasyPrint subsets, for every PDF, each font it used, and reads the whole font file to do so.
Debian's Noto Serif CJK comes as 26 MB collections (.ttc, 65,535 glyphs, five languages); subsetting
them was about half of a contract's rendering. A font of the ~8,000 characters below is a tenth of
the size, and subsetting it is several times cheaper (bench/pdf.py). Characters outside it (rare
characters in names: 喆, 堃, 𬌗) are drawn from the full system font, which the templates name next
in their font-family list: a document then embeds both.

What is kept: every character of GB 2312 (its 6,763 hanzi and its symbol rows), the simplified
characters of listings/data/hanzi_frequency.json (the 7,000 most frequent), ASCII, Latin-1 and the
punctuation, symbols and full-width forms contracts and invoices use; the layout features horizontal
text needs (no vertical forms, no other languages' glyph variants, which would double the glyphs).
The outlines are desubroutinized (see build_one). Covering all 20,992 characters of the CJK Unified
Ideographs block instead made the per-PDF subsetting twice as long as this set does.

Idempotent: nothing happens when the fonts were built from the same system fonts by the same script
and fontTools (build/fonts/SOURCE records that); run from `make setup`. market/pdf.py works without
these files (documents then use the system font and render slower).

    .venv/bin/python scripts/pdf_fonts.py [--force]
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from market.pdf import FONT_DIR, FONT_FAMILY, FONT_FILES  # noqa: E402

SOURCE_FAMILY = "Noto Serif CJK SC"
# code point ranges kept beside GB 2312 and the frequent hanzi
RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1: ¥ × ÷ § °
    (0x2000, 0x206F),  # general punctuation: — … “ ” ‰ ※
    (0x2100, 0x218F),  # letterlike and number forms: ℃ № Ⅰ–Ⅻ
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed alphanumerics: ① ⓧ (the invoice's 价税合计 mark)
    (0x25A0, 0x25FF),  # geometric shapes: □ ■ ○ ●
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。〈〉《》「」【】〔〕
    (0x3200, 0x32FF),  # enclosed CJK: ㈠ ㊣
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms: ，：；（）￥
)
# pango shapes Chinese with these; vertical forms (vert) and other languages' variants (locl) are left out
LAYOUT_FEATURES = ["ccmp", "kern", "liga", "calt", "clig", "rlig", "mark", "mkmk"]


def gb2312() -> set[str]:
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def frequent_hanzi() -> list[str]:
    """The 7,000 most frequent simplified characters, most frequent first."""
    path = ROOT / "listings" / "data" / "hanzi_frequency.json"
    return [entry[0] for entry in json.loads(path.read_text(encoding="utf-8"))["ranks"]]


def charset() -> list[int]:
    chars = gb2312() | set(frequent_hanzi())
    for low, high in RANGES:
        chars |= {chr(c) for c in range(low, high + 1)}
    return sorted(ord(c) for c in chars)


def system_font(style: str) -> tuple[str, int]:
    """The file and face index of the system's Noto Serif CJK SC in this style, through fontconfig."""
    out = subprocess.run(["fc-match", "-f", "%{file}\n%{index}\n%{family}", f"{SOURCE_FAMILY}:style={style}"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    if SOURCE_FAMILY not in out[2].split(","):
        raise SystemExit(f"{SOURCE_FAMILY} {style} is not installed (fonts-noto-cjk, scripts/system-deps.sh)")
    return out[0], int(out[1])


def _rename(font, style: str) -> None:
    """Give the subset a family name of its own: fontconfig must never take it for the full font (old
    documents name "Noto Serif CJK SC" and must keep rendering from it, rare characters included)."""
    name = font["name"]
    keep = {0: None, 7: None, 8: None, 9: None, 11: None, 12: None, 13: None, 14: None}  # copyright, licence, makers
    kept = [r for r in name.names if r.nameID in keep and r.platformID == 3 and r.langID == 0x409]
    name.names = kept
    postscript = FONT_FAMILY.replace(" ", "") + "-" + style
    for name_id, text in ((1, FONT_FAMILY), (2, style), (3, f"{postscript};subset"), (4, f"{FONT_FAMILY} {style}"),
                          (6, postscript),
                          (10, f"{SOURCE_FAMILY} {style} cut down to GB 2312 and frequent characters "
                               "by scripts/pdf_fonts.py (SIL Open Font License 1.1)")):
        name.setName(text, name_id, 3, 1, 0x409)
    cff = font["CFF "].cff if "CFF " in font else None
    if cff is not None:
        cff.fontNames = [postscript]


def _by_frequency(font) -> list[str]:
    """The font's glyphs, those of ASCII and the frequent hanzi first.

    WeasyPrint keeps glyph ids when it subsets (every glyph up to the highest one used stays, empty):
    with the common glyphs first, a contract's subset stops at a few thousand glyphs instead of
    running to the end of the font, which is less for HarfBuzz to copy and for zlib to compress."""
    cmap = font.getBestCmap()
    order = font.getGlyphOrder()
    first = [order[0]]  # .notdef stays glyph 0
    for ch in [chr(c) for c in (*range(0x20, 0x7F), *range(0x3000, 0x3018), *range(0xFF01, 0xFF5F))] + \
            list("¥￥—…·×ⓧ“”‘’零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整") + frequent_hanzi():  # the 大写 numerals of amounts
        name = cmap.get(ord(ch))
        if name is not None:
            first.append(name)
    first = list(dict.fromkeys(first))
    chosen = set(first)
    return first + [g for g in order if g not in chosen]


def build_one(source: tuple[str, int], style: str, codepoints: list[int], target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    options = subset.Options()
    options.font_number = source[1]
    options.layout_features = LAYOUT_FEATURES
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    # WeasyPrint has HarfBuzz desubroutinize every subset it embeds; a font without subroutines makes
    # that a copy (the per-PDF subsetting is then about half as long again, bench/pdf.py)
    options.desubroutinize = True
    font = TTFont(source[0], fontNumber=source[1], lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    for tag in ("vhea", "vmtx", "VORG"):  # vertical metrics: documents are written horizontally
        if tag in font:
            del font[tag]
    reorderGlyphs(font, _by_frequency(font))
    _rename(font, style)
    tmp = target.with_suffix(".tmp")
    font.save(tmp)
    os.replace(tmp, target)  # a renderer never sees half a file


def fingerprint(sources: dict[str, tuple[str, int]], codepoints: list[int]) -> dict:
    import fontTools

    script = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return {
        "fonttools": fontTools.version, "script_sha256": script,
        "charset_sha256": hashlib.sha256(",".join(map(str, codepoints)).encode()).hexdigest(),
        "sources": {style: {"file": f, "index": i, "size": os.stat(f).st_size, "mtime": int(os.stat(f).st_mtime)}
                    for style, (f, i) in sources.items()},
    }


def build(force: bool = False) -> bool:
    """Build the fonts unless they are up to date; True when something was built."""
    codepoints = charset()
    sources = {style: system_font(style) for style in FONT_FILES}
    stamp = FONT_DIR / "SOURCE"
    wanted = fingerprint(sources, codepoints)
    current = all((FONT_DIR / f).is_file() for f in FONT_FILES.values()) and stamp.is_file() and \
        json.loads(stamp.read_text(encoding="utf-8")) == wanted
    if current and not force:
        return False
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for style, file in FONT_FILES.items():
        print(f"building {FONT_DIR / file} ({len(codepoints)} characters of {sources[style][0]})", file=sys.stderr)
        build_one(sources[style], style, codepoints, FONT_DIR / file)
    stamp.write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return True


if __name__ == "__main__":
    build(force="--force" in sys.argv[1:])
