"""Write listings/data/hanzi_frequency.json: the most frequent Han characters, each with its traditional forms.

The reading stage judges which text encoding a file is in by how ordinary its characters are (listings/
_reading_encoding.py). Ordinary is measured on jieba's dictionary (word frequencies of a large simplified corpus,
summed per character); a traditional character ranks with the simplified character it is written for (OpenCC's
STCharacters table), so 圖 counts as common as 图 and a Taiwanese file is judged as fairly as a mainland one.

    python scripts/hanzi_frequency.py            # rewrites the JSON (needs the dev extra opencc-python-reimplemented)
    python scripts/hanzi_frequency.py --check    # exits 1 when the JSON differs from what the sources give
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

TOP = 7000  # beyond this a character is rare in ordinary text (GB 2312 holds 6,763)
OUT = Path(__file__).resolve().parents[1] / "listings" / "data" / "hanzi_frequency.json"


def build() -> dict:
    import jieba
    import opencc

    counts: collections.Counter = collections.Counter()
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word, freq, _ = line.split(" ", 2)
            for ch in word:
                if "\u3400" <= ch <= "\u9fff" or ch >= "\U00020000":
                    counts[ch] += int(freq)
    traditional: dict[str, list[str]] = {}
    with (Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt").open(encoding="utf-8") as fh:
        for line in fh:
            simplified, forms = line.rstrip("\n").split("\t")
            traditional[simplified] = forms.split(" ")
    placed: set[str] = set()
    ranks = []
    for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if ch in placed:
            continue  # a traditional form already ranked with its simplified character
        entry = ch + "".join(t for t in traditional.get(ch, []) if t not in placed and t != ch)
        placed.update(entry)
        ranks.append(entry)
        if len(ranks) == TOP:
            break
    return {"about": "Han characters by frequency (jieba dict.txt, summed per character), most frequent first; "
                     "each entry is a character followed by its traditional forms (OpenCC STCharacters.txt)",
            "ranks": ranks}


def main() -> int:
    text = json.dumps(build(), ensure_ascii=False, indent=0) + "\n"
    if "--check" in sys.argv:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
