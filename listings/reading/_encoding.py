"""Which text encoding an uploaded table is written in, and how sure that is (private to listings.reading).

A byte order mark or clean UTF-8 settles it. After that GB18030 decodes nearly any byte sequence, so "it decodes"
proves little: a Big5 file (traditional characters, as Hong Kong, Macao and Taiwan sources and some older systems
write it) read as GB18030 comes out as 籓カミ瓜繻 instead of 臺北市立圖書館. So every codec that decodes the sniffed
bytes is given a plausibility score: how ordinary its characters are in written Chinese (frequency ranks from
jieba's dictionary, a traditional character ranking with its simplified one), with kana, hangul, bopomofo,
private-use, compatibility and box-drawing characters counting against it; and charset-normalizer is asked which
of the same codecs it prefers. The one plausible reading is taken when it leads the others decisively or the
detector prefers it too. Anything else (two plausible readings, a weak best one, a close call the detector does
not confirm) is not guessed: EncodingQuestion carries the first rows under each candidate for the holder to choose.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import json
import re
from collections import Counter
from pathlib import Path

from listings.reading._errors import ReadError

# what the holder may choose, as reported on the version → the codec that decodes it
CODECS = {
    "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030", "big5": "cp950",
    "big5-hkscs": "big5hkscs", "utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be",
}
# right readings of the realdata and generated place-name files score ≥ 0.78, wrong ones ≤ 0.56
PLAUSIBLE = 0.7  # a reading at least this plausible could be what the author typed
DECISIVE = 0.2  # a lead in plausibility this large settles it without the detector
WEAK = 0.5  # below this even the only reading that decodes is shown to the holder before it is used
PREVIEW_ROWS = 6  # lines shown per candidate (header and the first data rows)
PREVIEW_COLUMNS = 8
PREVIEW_CELL = 30  # characters per cell in the preview

# characters that never occur in a Chinese table written in the encoding being tried: a reading that produces
# them is the wrong codec (Big5 read as GBK gives kana from GB 2312 row 5 and private-use code points)
_ALIEN = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF61, 0xFF9F),  # kana, half-width kana
          (0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF),  # hangul
          (0x0400, 0x04FF),  # Cyrillic (GB 2312 row 7, Big5 symbol rows)
          (0x3100, 0x312F), (0x31A0, 0x31BF),  # bopomofo (GBK's full-width punctuation read as Big5)
          (0xE000, 0xF8FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0x3300, 0x33FF),  # private use, compatibility
          (0x2460, 0x24FF), (0x2500, 0x257F), (0x3200, 0x32FF), (0xFFFD, 0xFFFD))  # enclosed, box drawing, �
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x3FFFF))
_GREEK = (0x0370, 0x03FF)  # μ or α in a unit is fine, a run of them is a wrong codec: counted, never as evidence for


class EncodingQuestion(Exception):
    """The encoding is uncertain: `candidates` (best first) are dicts {encoding, score, rows} for the holder.

    Not a ReadError: the file is readable, only which reading is right needs a person. Pickles by its args.
    """

    def __init__(self, candidates: list[dict]):
        super().__init__(candidates)
        self.candidates = candidates


def codec_of(encoding: str) -> str:
    """The codec for an encoding name the holder chose (ValueError for any other name)."""
    try:
        return CODECS[encoding]
    except KeyError:
        raise ValueError(encoding) from None


# weight of a Han character by its frequency rank (traditional forms rank with their simplified character)
_BANDS = ((2000, 1.0), (4000, 0.6), (7000, 0.2))


_ASCII = re.compile(r"[\x00-\x7f]+")


@functools.cache
def _ranks() -> dict[str, int]:
    """Frequency rank of the 7,000 most frequent Han characters and their traditional forms (made by
    scripts/hanzi_frequency.py from jieba's dictionary and OpenCC's character table)."""
    path = Path(__file__).resolve().parent.parent / "data" / "hanzi_frequency.json"  # listings/data
    ranks: dict[str, int] = {}
    for rank, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["ranks"]):
        for ch in entry:
            ranks.setdefault(ch, rank)
    return ranks


@functools.lru_cache(maxsize=1 << 16)
def _weight(ch: str) -> float | None:
    o = ord(ch)
    if any(lo <= o <= hi for lo, hi in _ALIEN):
        return -1.0
    if any(lo <= o <= hi for lo, hi in _HAN):
        rank = _ranks().get(ch)
        if rank is not None:
            for limit, weight in _BANDS:
                if rank < limit:
                    return weight
        return 0.0  # rare characters (GBK extensions, CJK Ext A/B): possible in names, never in bulk
    if _GREEK[0] <= o <= _GREEK[1]:
        return 0.0
    return None  # punctuation, symbols, Latin letters with accents: no evidence either way


def plausibility(text: str) -> float:
    """0..1: how much the non-ASCII characters of `text` look like Chinese a person typed (1 when there are none)."""
    total, counted = 0.0, 0
    # each distinct non-ASCII character weighed once: 64 KB hold a few thousand
    for ch, n in Counter(_ASCII.sub("", text)).items():
        weight = _weight(ch)
        if weight is not None:
            total += weight * n
            counted += n
    return max(0.0, total / counted) if counted else 1.0


def _decode(data: bytes, codec: str, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def _readings(head: bytes, complete: bool) -> list[tuple[str, str, str]]:
    """(encoding, codec, text) for each non-UTF-8 codec that decodes the bytes."""
    out = []
    text = _decode(head, "gb18030", complete)
    if text is not None:
        # decode with GB18030 (a superset of GBK) in any case; report what a person would call it
        out.append(("gbk" if _decode(head, "gbk", complete) is not None else "gb18030", "gb18030", text))
    text = _decode(head, "cp950", complete)  # Big5 as Windows writes it
    if text is not None:
        out.append(("big5", "cp950", text))
    else:
        text = _decode(head, "big5hkscs", complete)  # Hong Kong's supplementary characters
        if text is not None:
            out.append(("big5-hkscs", "big5hkscs", text))
    return out


def _detector_pick(head: bytes, codec_names: list[str]) -> str | None:
    """charset-normalizer's preferred codec among `codec_names` (normalized), or None when it rejects them all."""
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=codec_names).best()
    return codecs.lookup(best.encoding).name if best is not None else None


def judge(head: bytes, complete: bool) -> tuple[str, str]:
    """(reported encoding, codec) of bytes that are not UTF-8; EncodingQuestion when a person must choose."""
    if not complete and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines only: a cut character would fail the right codec
        complete = True
    readings = [(enc, codec, text, plausibility(text)) for enc, codec, text in _readings(head, complete)]
    if not readings:
        raise ReadError("read.encoding", detail="既不是 UTF-8，也不是 GBK/GB18030 或 Big5")
    readings.sort(key=lambda r: -r[3])
    best = readings[0]
    if len(readings) == 1:
        if best[3] >= WEAK:
            return best[0], best[1]
    else:
        # the only plausible reading is taken when it leads decisively, or when the detector prefers it too
        # (charset-normalizer alone is unreliable on a few characters, plausibility alone near its threshold)
        plausible = [r for r in readings if r[3] >= PLAUSIBLE]
        if len(plausible) == 1 and (best[3] - readings[1][3] >= DECISIVE or _detector_pick(
                head, [r[1] for r in readings]) == codecs.lookup(best[1]).name):
            return best[0], best[1]
    raise EncodingQuestion([{"encoding": enc, "score": round(score, 3), "rows": preview(text)}
                            for enc, _codec, text, score in readings])


def preview(text: str) -> list[list[str]]:
    """The first lines of a decoded text as short rows, split on the delimiter they seem to use."""
    from listings.reading._sources import detect_delimiter

    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()][:PREVIEW_ROWS]
    sample = "\n".join(lines) + "\n"
    delimiter = detect_delimiter(sample, True, prefer_tab=False)
    try:
        rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    except csv.Error:
        rows = [[line] for line in lines]
    return [[cell[:PREVIEW_CELL] for cell in row[:PREVIEW_COLUMNS]] for row in rows[:PREVIEW_ROWS]]


def utf16_without_bom(head: bytes, complete: bool) -> tuple[str, str] | None:
    """UTF-16 text saved without a byte order mark: zero bytes on one side of (nearly) every ASCII character."""
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.15 and zeros_even < 0.05:
        codec = "utf-16-le"
    elif zeros_even > 0.15 and zeros_odd < 0.05:
        codec = "utf-16-be"
    else:
        return None
    text = _decode(head[: len(head) // 2 * 2], codec, complete)
    if text is None or sum(1 for ch in text if ch < " " and ch not in "\t\r\n") > len(text) / 100:
        return None
    return codec, codec


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def sample_after_ascii(path, start: int, size: int) -> tuple[bytes, bool]:
    """`size` bytes from the start of the first line holding a non-ASCII byte at or after `start` (the sniffed head
    was plain ASCII), and whether that sample reaches the end of the file."""
    with open(path, "rb") as fh:
        fh.seek(start)
        offset = start
        while chunk := fh.read(1024**2):
            found = _NON_ASCII.search(chunk)
            if found:
                at = offset + found.start()
                fh.seek(max(0, at - 4096))
                before = fh.read(at - max(0, at - 4096))
                line_start = at - len(before) + before.rfind(b"\n") + 1 if b"\n" in before else max(0, at - 4096)
                fh.seek(line_start)
                sample = fh.read(size)
                return sample, len(fh.read(1)) == 0
            offset += len(chunk)
    return b"", True
