"""The demo's tables: realistic Hangzhou (杭州市, 浙江省) public data that the project generates itself.

`demo_tables()` describes every table the demo lists; `table.write(path)` writes it and returns its
number of data rows. Everything is synthetic: names, credit codes, ID numbers and figures are drawn
from a seeded `random.Random` per table, so two runs write identical bytes. Only public reference
facts are hard-coded (GB/T 2260 district codes, road and street names, the HJ 633 AQI breakpoints,
the GB 3838 water classes, the GB/T 4754 industry sections). The real files under
../shared/realdata are for tests only and are never read here.

Some tables are deliberately untidy, as a real holder's would be, so detection and quality checks
have something to show: `individual_businesses` is GBK, `population_yearly` has a title row and a
unit row above its header, `universities` is an Excel workbook, `enterprise_registry` spells one
status four ways and mixes date formats, and a few sensor readings are missing.

Identifiers are valid: credit codes carry the GB 11714 organization-code check character and the
GB 32100 check character (`stdnum.cn.uscc`); ID numbers use a region code that existed in the birth
year, a real birth date and the GB 11643 check digit (`stdnum.cn.ric`). 临平区 (330113) and 钱塘区
(330114) date from 2021, so they appear as district codes and in credit codes issued since, but
never in an ID number (python-stdnum's region list predates them).

Private modules: `_common` (DemoTable, districts, seeded helpers, writers), `_orgs` (organisations), one
per domain (`_health`, `_market`, `_environment`, `_statistics`, `_city`), and `_registry` (the list).
"""

from __future__ import annotations

from listings.demo._common import DemoTable, credit_code, resident_id  # noqa: F401
from listings.demo._registry import demo_tables  # noqa: F401
