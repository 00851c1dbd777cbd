"""Row marks: the delivery mark spread through the data rows, so an excerpt without the header still traces.

The header mark (marks.stamp) sits once, after the last column name: rows copied without the header lose it.
So every data row also carries a few bits of the same mark id, and any few dozen rows of one delivered file,
in any order, contiguous or not, without the header, give the id back with its signature checked.

What a row carries (the exact variation a buyer's file has)
- The payload is 12 bytes: the mark id (4 bytes) and HMAC-SHA256(secret, "row-mark:" + id) cut to 8 bytes.
- Marked row r (counting only rows that carry a mark) carries byte i = (r + k) mod 12 of the payload, k keyed
  by the id: any 12 consecutive rows hold the whole payload, a random subset of n rows misses a byte with
  probability at most 12·(11/12)^n (5·10⁻¹¹ at n = 300). The placement follows the row's position and not its
  content on purpose: a table of repeated or near-identical rows would otherwise carry the same byte in
  every row.
- The row carries a 12-bit symbol, (i XOR k_idx) · 256 + (byte XOR pad_i), with k_idx and pad_i keyed by the
  platform secret alone (the reader does not know the id yet), written as 6 zero-width characters, 2 bits
  each (U+200B, U+200C, U+200D, U+2060), appended to ONE text cell of the row: the last cell that holds
  Chinese characters, or at least two words of letters, and no digit; failing that the last such cell with
  digits that is not a date or an amount ("2025年3月", "40万元"). Numbers, codes, dates, empty cells and
  missing markers are never touched, so every numeric column parses exactly as before; the text cell
  differs only by the invisible suffix (strip U+200B, U+200C, U+200D, U+2060 before comparing text
  exactly). A row with no such cell carries nothing. Every other byte of the file is unchanged.

Why it survives: zero-width characters are text, not whitespace, so copy and paste, Excel's "CSV UTF-8"
round trip, re-sorting and filtering keep them with their row (a save as GBK/"ANSI" CSV drops them, header
mark included: those encodings cannot hold them).

Reading: every run of exactly 6 of those characters is one vote (index, byte). For each index the two most
voted bytes are candidates; the majority payload is tried first, then every combination (at most 4,096
HMACs), and only a payload whose HMAC verifies names a mark. A found payload's bytes are then set aside and
the search runs again, so rows of two recipients mixed in one excerpt name both. Corrupted or forged
symbols only add votes that verify nothing: the result is a verified mark or no mark, never a wrong one.
Memory is 12 × 256 counters whatever the file's size.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from collections import Counter

ALPHABET = "\u200b\u200c\u200d\u2060"
_DIGIT = {c: i for i, c in enumerate(ALPHABET)}
SYMBOL_CHARS = 6  # 12 bits
CHUNKS = 12  # payload bytes
_ID_BYTES, _MAC_BYTES = 4, 8
MAX_ID = 1 << (8 * _ID_BYTES)
MAX_RECIPIENTS = 8  # rounds of the search: excerpts mixing more files than this report the rest unattributed
# a run of exactly 6 (a header mark is 130, an emoji joiner 1, neither is a row symbol)
_SYMBOL = re.compile(f"(?<![{ALPHABET}])[{ALPHABET}]{{{SYMBOL_CHARS}}}(?![{ALPHABET}])")

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_WORDS = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]")
_DIGITS = re.compile(r"\d")
# what is left of a date or an amount once digits and separators are gone: such a cell is a value, not text
_NUMBER_WORDS = frozenset("年月日时分秒号点万亿千百十元角分圆整人民币美港澳欧英镑日韩台新约余多每个期季度周旬第")
_SEPARATORS = frozenset(" \t.,，:：/-+()（）%％~～—")
# missing markers (reading.MISSING_MARKERS, kept as text by some sources) and booleans: parsed as values
_VALUE_WORDS = frozenset({"无", "空", "暂无", "不详", "未知", "是", "否", "na", "n/a", "nan", "null", "none", "nil",
                          "true", "false", "#n/a"})


# ---- keys ----------------------------------------------------------------------------------------------


def _h(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()


def _mac(mark_id: int, secret: bytes) -> bytes:
    return _h(secret, b"row-mark:" + mark_id.to_bytes(_ID_BYTES, "big"))[:_MAC_BYTES]


def _masks(secret: bytes) -> tuple[int, bytes]:
    """The index mask (4 bits) and one pad byte per index, keyed by the secret only."""
    key = _h(secret, b"row-mask")
    return key[0] & 0x0F, key[1:1 + CHUNKS]


def payload(mark_id: int, secret: bytes) -> bytes:
    if not 0 <= mark_id < MAX_ID:
        raise ValueError(f"mark id {mark_id} does not fit in {_ID_BYTES} bytes")
    return mark_id.to_bytes(_ID_BYTES, "big") + _mac(mark_id, secret)


def _verify(data: bytes, secret: bytes) -> int | None:
    mark_id = int.from_bytes(data[:_ID_BYTES], "big")
    return mark_id if hmac.compare_digest(data[_ID_BYTES:], _mac(mark_id, secret)) else None


def symbols(mark_id: int, secret: bytes) -> list[str]:
    """The 12 invisible symbols of one mark, by payload index."""
    k_idx, pad = _masks(secret)
    out = []
    for i, byte in enumerate(payload(mark_id, secret)):
        value = ((i ^ k_idx) << 8) | (byte ^ pad[i])
        out.append("".join(ALPHABET[(value >> shift) & 3] for shift in range(2 * SYMBOL_CHARS - 2, -2, -2)))
    return out


# ---- writing -------------------------------------------------------------------------------------------


def _tier(cell: str) -> int:
    """2: a text cell without digits (preferred carrier); 1: text with digits that is not a date or an amount;
    0: not a carrier."""
    if not cell or cell[-1] in ALPHABET or cell.strip().lower() in _VALUE_WORDS:
        return 0
    if not (_CJK.search(cell) or _WORDS.search(cell)):
        return 0
    if not _DIGITS.search(cell):
        return 2
    rest = {c for c in cell if not c.isdigit() and c not in _SEPARATORS}
    return 0 if rest <= _NUMBER_WORDS else 1


def _fields(body: str) -> list[tuple[str, int]] | None:
    """(value, end of the value in `body`) of each field of one CSV record, RFC 4180 quoting; None when the
    record is not well formed (it is then left as it is)."""
    if '"' not in body:
        out, pos = [], 0
        for cell in body.split(","):
            pos += len(cell)
            out.append((cell, pos))
            pos += 1
        return out
    out, i, n = [], 0, len(body)
    while True:
        if i < n and body[i] == '"':
            j, parts = i + 1, []
            while True:
                q = body.find('"', j)
                if q == -1:
                    return None
                if q + 1 < n and body[q + 1] == '"':
                    parts.append(body[j:q + 1])
                    j = q + 2
                    continue
                parts.append(body[j:q])
                break
            out.append(("".join(parts), q))  # the mark goes inside the closing quote
            i = q + 1
            if i < n and body[i] != ",":
                return None
        else:
            c = body.find(",", i)
            c = n if c == -1 else c
            out.append((body[i:c], c))
            i = c
        if i >= n:
            return out
        i += 1  # the comma
        if i == n:
            out.append(("", n))
            return out


def _carrier(values, tier) -> int | None:
    """Index of the cell that carries the row's symbol: the last tier-2 cell, else the last tier-1 cell."""
    fallback = None
    for k in range(len(values) - 1, -1, -1):
        value = values[k]
        if not value:
            continue
        t = tier(value)
        if t == 2:
            return k
        if t == 1 and fallback is None:
            fallback = k
    return fallback


class RowMarker:
    """Adds the row marks to the data records of a CSV (decoded text in, text out), record by record."""

    _CACHE = 1 << 16  # cell values whose tier is remembered: columns repeat their values, most rows hit

    def __init__(self, mark_id: int, secret: bytes):
        self._symbols = symbols(mark_id, secret)
        self._next = _h(secret, b"row-offset:" + mark_id.to_bytes(_ID_BYTES, "big"))[0] % CHUNKS
        self._tiers: dict[str, int] = {}
        self.marked = 0

    def _tier(self, value: str) -> int:
        t = self._tiers.get(value)
        if t is None:
            t = _tier(value)
            if len(value) <= 64 and len(self._tiers) < self._CACHE:  # at most some 10 MB however wide the cells
                self._tiers[value] = t
        return t

    def record(self, rec: str) -> str:
        body = rec.rstrip("\r\n")
        if not body:
            return rec
        if '"' not in body:  # the common record: split, mark one cell, join
            cells = body.split(",")
            k = _carrier(cells, self._tier)
            if k is None:
                return rec
            cells[k] += self._take()
            return ",".join(cells) + rec[len(body):]
        fields = _fields(body)
        k = _carrier([v for v, _end in fields], self._tier) if fields else None
        if k is None:
            return rec
        end = fields[k][1]
        return body[:end] + self._take() + body[end:] + rec[len(body):]

    def _take(self) -> str:
        self.marked += 1
        symbol = self._symbols[self._next]
        self._next = (self._next + 1) % CHUNKS
        return symbol


def mark_records(text_chunks, marker: RowMarker):
    """Split a stream of decoded CSV text into whole records (a quoted newline stays inside its record) and
    mark each; yields text. Holds at most one record and one chunk."""
    pending: list[str] = []
    odd = False  # an odd number of quotes so far in the pending record: inside a quoted field
    for text in text_chunks:
        lines = text.split("\n")
        last = lines.pop()
        out = []
        for line in lines:
            pending.append(line + "\n")
            if line.count('"') & 1:
                odd = not odd
            if not odd:
                out.append(marker.record("".join(pending)))
                pending = []
        if last:
            pending.append(last)
            if last.count('"') & 1:
                odd = not odd
        if out:
            yield "".join(out)
    if pending:
        yield marker.record("".join(pending))


# ---- reading -------------------------------------------------------------------------------------------


class RowVotes:
    """Counts the symbols found in text; `resolve` names the marks they prove."""

    def __init__(self, secret: bytes):
        self._secret = secret
        self._k_idx, self._pad = _masks(secret)
        self._raw: Counter[str] = Counter()
        self.votes = [Counter() for _ in range(CHUNKS)]
        self.symbols = 0

    def scan(self, text: str) -> None:
        self._raw.update(_SYMBOL.findall(text))  # C speed; at most 4^6 distinct strings

    def _tally(self) -> None:
        for run, n in self._raw.items():
            value = 0
            for ch in run:
                value = (value << 2) | _DIGIT[ch]
            i = (value >> 8) ^ self._k_idx
            if i < CHUNKS:  # 4 of the 16 index values are never written: a cheap first check
                self.votes[i][(value & 0xFF) ^ self._pad[i]] += n
                self.symbols += n
        self._raw.clear()

    def resolve(self) -> tuple[list[tuple[int, int]], int]:
        """([(mark id, rows supporting it)], rows attributed to none). Only HMAC-verified payloads count."""
        self._tally()
        votes = [Counter(c) for c in self.votes]
        claimed: list[set[int]] = [set() for _ in range(CHUNKS)]
        found: list[tuple[int, int]] = []
        for _ in range(MAX_RECIPIENTS):
            candidates = []
            for i in range(CHUNKS):
                fresh = [v for v, _n in votes[i].most_common() if v not in claimed[i]][:2]
                # a byte two recipients share was claimed by the first: the second may need it again
                candidates.append((fresh + sorted(claimed[i] & set(votes[i])))[:2])
            if not all(candidates):
                break
            hit = None
            for combo in itertools.product(*candidates):  # the majority payload comes first
                mark_id = _verify(bytes(combo), self._secret)
                if mark_id is not None and mark_id not in {f for f, _ in found}:
                    hit = (mark_id, combo)
                    break
            if hit is None:
                break
            mark_id, combo = hit
            found.append((mark_id, sum(votes[i][b] for i, b in enumerate(combo))))
            for i, b in enumerate(combo):
                claimed[i].add(b)
        attributed = sum(votes[i][b] for i in range(CHUNKS) for b in claimed[i])
        return found, self.symbols - attributed
