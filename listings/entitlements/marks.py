"""Delivery marks: an invisible, signed fingerprint in every delivered file (DOMAIN.md).

Each download gets a `DeliveryMark` row (recipient, credit code, time, purpose, order). Its id and an
HMAC of it under the platform secret are written as zero-width characters into the file's header,
so the file looks and parses the same, and a leaked copy leads back to the row. The HMAC stops
anyone forging a mark that blames another buyer; the row, not the mark, holds the details, so the
mark stays short (130 invisible characters).

The mark is appended to the last column name: spreadsheet programs and CSV readers keep it, and
it survives re-saving. Tools that compare column names exactly should strip U+200B, U+200C, U+2060.

Rows copied without the header would lose it, so the same id, signed again, is also spread through
the data rows: 6 invisible characters appended to one text cell per row, enough for a few dozen rows
of one file, in any order, to name their recipient (`_row_marks` says exactly what changes and why).
Tools that compare text cells exactly should strip U+200B, U+200C, U+200D and U+2060 (`strip`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Iterator

from listings.entitlements._row_marks import ALPHABET, RowMarker, RowVotes, mark_records

ZERO, ONE, FENCE = "\u200b", "\u200c", "\u2060"
_MARK_RE = re.compile(f"{FENCE}([{ZERO}{ONE}]{{128}}){FENCE}")
_ID_BYTES, _MAC_BYTES = 8, 8


def _mac(mark_id: int, secret: bytes) -> bytes:
    return hmac.new(secret, b"delivery-mark:" + mark_id.to_bytes(_ID_BYTES, "big"), hashlib.sha256).digest()[:_MAC_BYTES]


def stamp(mark_id: int, secret: bytes) -> str:
    """The invisible text that carries a mark id and its signature."""
    payload = mark_id.to_bytes(_ID_BYTES, "big") + _mac(mark_id, secret)
    bits = "".join(f"{byte:08b}" for byte in payload)
    return FENCE + "".join(ONE if b == "1" else ZERO for b in bits) + FENCE


def find(text: str, secret: bytes) -> list[int]:
    """Mark ids whose signature verifies, in the order found (a forged or damaged mark is ignored)."""
    found: list[int] = []
    for match in _MARK_RE.finditer(text):
        bits = "".join("1" if c == ONE else "0" for c in match.group(1))
        payload = int(bits, 2).to_bytes(_ID_BYTES + _MAC_BYTES, "big")
        mark_id = int.from_bytes(payload[:_ID_BYTES], "big")
        if hmac.compare_digest(payload[_ID_BYTES:], _mac(mark_id, secret)) and mark_id not in found:
            found.append(mark_id)
    return found


class Scanner:
    """`find` over a stream of bytes, and the row marks' votes: chunks are decoded incrementally, a
    header mark cut between two chunks is found in the overlap kept from the previous one, and a row
    symbol cut between two chunks is held back until its run of invisible characters ends.
    Row symbols are counted in the first MAX_ROWS lines only: time stays bounded, and a few hundred
    rows are enough (memory is bounded whatever the size: the votes are 12 × 256 counters)."""

    OVERLAP = 2 + 128  # a whole mark, fences included
    MAX_ROWS = 1_000_000

    def __init__(self, secret: bytes):
        self._secret = secret
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""
        self._found: list[int] = []
        self._votes = RowVotes(secret)
        self._row_tail = ""  # a run of invisible characters that may continue in the next chunk
        self.rows = 0  # lines examined for row marks
        self.capped = False

    def _scan(self, text: str, final: bool = False) -> None:
        window = self._tail + text
        for mark_id in find(window, self._secret):
            if mark_id not in self._found:
                self._found.append(mark_id)
        self._tail = window[-self.OVERLAP:]
        if self.capped:
            return
        rows = self._row_tail + text
        cut = len(rows)
        if not final:
            while cut and rows[cut - 1] in ALPHABET:
                cut -= 1
        # a run longer than a symbol is no symbol however it goes on: keep 7 characters of it at most
        self._row_tail = rows[cut:][-7:]
        rows = rows[:cut]
        lines = rows.count("\n")
        if self.rows + lines >= self.MAX_ROWS:
            rows = rows[:_nth_newline(rows, self.MAX_ROWS - self.rows)]
            self.capped, lines = True, self.MAX_ROWS - self.rows
        self.rows += lines
        self._votes.scan(rows)

    def feed(self, chunk: bytes) -> None:
        self._scan(self._decoder.decode(chunk))

    def finish(self) -> list[int]:
        """Every verified mark id: header marks first, then those the rows prove."""
        self._scan(self._decoder.decode(b"", final=True), final=True)
        self._rows_found, self.unattributed = self._votes.resolve()
        found = list(self._found)
        found += [mark_id for mark_id, _n in self._rows_found if mark_id not in found]
        return found

    def evidence(self) -> dict:
        """After `finish`: what supports each mark, and the marked rows that name nobody."""
        return {"header": list(self._found), "rows": dict(self._rows_found), "rows_examined": self.rows,
                "marked_rows": self._votes.symbols, "unattributed_rows": self.unattributed,
                "rows_capped": self.capped}


def _nth_newline(text: str, n: int) -> int:
    pos = -1
    for _ in range(n):
        pos = text.index("\n", pos + 1)
    return pos + 1


def strip(text: str) -> str:
    return text.translate(_STRIP)


_STRIP = str.maketrans("", "", ZERO + ONE + FENCE + ALPHABET)


def _split_first_record(head: bytes) -> tuple[bytes, bytes] | None:
    """The first CSV record (with its line end) and the rest, once `head` holds a whole record."""
    in_quotes = False
    for i, byte in enumerate(head):
        if byte == 0x22:  # '"': quotes toggle; a doubled quote toggles twice
            in_quotes = not in_quotes
        elif byte == 0x0A and not in_quotes:
            return head[: i + 1], head[i + 1:]
    return None


def mark_csv(chunks: Iterable[bytes], mark: str, *, bom: bool = True,
             rows: RowMarker | None = None) -> Iterator[bytes]:
    """Stream a UTF-8 CSV with `mark` appended to its last column name, and with `rows` the row marks
    in its data records; nothing else changes. With `bom`, the file starts with a UTF-8 BOM: Excel,
    which most buyers open CSV files with, reads Chinese text right only with it."""
    it = iter(chunks)
    head = b""
    split = None
    for chunk in it:
        head += chunk
        split = _split_first_record(head)
        if split is not None:
            break
    if split is None:  # no line end at all: the whole file is the header
        split = (head, b"")
    first, rest = split
    text = first.decode("utf-8-sig")
    ending = "\r\n" if text.endswith("\r\n") else "\n" if text.endswith("\n") else ""
    row = next(csv.reader(io.StringIO(text)), [])
    if not row:
        row = [""]
    row[-1] = row[-1] + mark
    out = io.StringIO()
    csv.writer(out, lineterminator=ending or "\r\n").writerow(row)
    yield ("\ufeff" if bom else "").encode("utf-8") + out.getvalue().encode("utf-8")
    if rows is None:
        if rest:
            yield rest
        yield from it
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")  # any byte passes through

    def texts() -> Iterator[str]:
        yield decoder.decode(rest)
        for chunk in it:
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)

    buffered: list[str] = []
    size = 0
    for text in mark_records(texts(), rows):
        buffered.append(text)
        size += len(text)
        if size >= _OUT_CHUNK:
            yield "".join(buffered).encode("utf-8", "surrogateescape")
            buffered, size = [], 0
    if buffered:
        yield "".join(buffered).encode("utf-8", "surrogateescape")


_OUT_CHUNK = 1 << 16  # characters per yielded piece: small enough to stream, big enough not to cost


def row_marker(mark_id: int, secret: bytes) -> RowMarker:
    """The row marks of one delivery, for `mark_csv(rows=...)`."""
    return RowMarker(mark_id, secret)
