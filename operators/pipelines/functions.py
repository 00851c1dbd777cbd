"""The built-in functions a pipeline may call to make personal data fit for a product: mask an ID number
or a phone number, generalise a region code or a date, and the functions of plain SQL it may use.

Each built-in is written once, as a DuckDB macro body over its parameters. DuckDB gets it as a macro
(`CREATE MACRO`); Spark has no SQL macros, so for Spark the call is replaced by the same body with the
arguments substituted (sqlglot), and the whole query is then transpiled. One definition, two engines:
the outputs cannot drift apart. Bodies use only functions both engines spell alike after transpiling
(substr, length, concat, repeat, CASE), and the date functions read the ISO text of a value, which both
engines write the same way, rather than each engine's own date formatting.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from market.i18n import N_

# name → (parameters, DuckDB body). Masks follow the platform's display masks (DOMAIN.md): an ID number
# keeps its first character and last two, a mobile number its first three and last four.
BUILTINS: dict[str, tuple[tuple[str, ...], str]] = {
    "mask_id": (("s",), "CASE WHEN s IS NULL THEN NULL WHEN length(CAST(s AS VARCHAR)) <= 3 "
                        "THEN repeat('*', length(CAST(s AS VARCHAR))) "
                        "ELSE concat(substr(CAST(s AS VARCHAR), 1, 1), repeat('*', length(CAST(s AS VARCHAR)) - 3), "
                        "substr(CAST(s AS VARCHAR), length(CAST(s AS VARCHAR)) - 1, 2)) END"),
    "mask_phone": (("s",), "CASE WHEN s IS NULL THEN NULL WHEN length(CAST(s AS VARCHAR)) < 7 "
                           "THEN repeat('*', length(CAST(s AS VARCHAR))) "
                           "ELSE concat(substr(CAST(s AS VARCHAR), 1, length(CAST(s AS VARCHAR)) - 8), '****', "
                           "substr(CAST(s AS VARCHAR), length(CAST(s AS VARCHAR)) - 3, 4)) END"),
    # GB/T 2260: 2 digits of province, 2 of city (地级), 2 of county; a coarser level zeroes the rest
    "region_city": (("c",), "CASE WHEN c IS NULL THEN NULL "
                            "ELSE concat(substr(CAST(c AS VARCHAR), 1, 4), '00') END"),
    "region_province": (("c",), "CASE WHEN c IS NULL THEN NULL "
                                "ELSE concat(substr(CAST(c AS VARCHAR), 1, 2), '0000') END"),
    "date_month": (("d",), "substr(CAST(d AS VARCHAR), 1, 7)"),
    "date_year": (("d",), "substr(CAST(d AS VARCHAR), 1, 4)"),
}

# What the functions do, for the editor (Chinese first; the page translates).
DESCRIPTIONS = {
    "mask_id": N_("身份证号脱敏：保留首位和末两位，如 3***************34"),
    "mask_phone": N_("手机号脱敏：如 135****2210"),
    "region_city": N_("行政区划代码泛化到地市级：330106 → 330100"),
    "region_province": N_("行政区划代码泛化到省级：330106 → 330000"),
    "date_month": N_("日期泛化到月：2024-05-17 → 2024-05"),
    "date_year": N_("日期泛化到年：2024-05-17 → 2024"),
}

# sqlglot expression classes of plain SQL a pipeline may call: arithmetic on values, text, dates,
# conditionals and aggregates. Anything else (catalog functions, settings, files, randomness that
# would make a product unrepeatable) is refused by name.
ALLOWED_FUNCTIONS = frozenset({
    "Abs", "Avg", "Cast", "Ceil", "Coalesce", "Concat", "ConcatWs", "Count", "CountIf", "Floor", "Greatest",
    "If", "Least", "Length", "Lower", "Max", "Min", "NullIf", "Round", "Substring", "Sum", "Trim", "TryCast",
    "Upper", "Year", "Month", "Day", "Left", "Right", "Replace", "StrPosition", "Lpad", "Rpad", "Stddev",
    "StddevPop", "StddevSamp", "Variance", "VariancePop", "Median", "ApproxDistinct", "Sign", "Mod", "GroupConcat",
    "Quantile", "Percentile",
})


def macro_statements() -> list[str]:
    """The CREATE MACRO statements that give DuckDB the built-ins."""
    return [f"CREATE OR REPLACE MACRO {name}({', '.join(params)}) AS {body}"
            for name, (params, body) in BUILTINS.items()]


def _bodies() -> dict[str, tuple[tuple[str, ...], exp.Expression]]:
    return {name: (params, sqlglot.parse_one(body, read="duckdb")) for name, (params, body) in BUILTINS.items()}


def expand(tree: exp.Expression) -> exp.Expression:
    """The tree with every built-in call replaced by its body (for engines without macros)."""
    bodies = _bodies()

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in bodies:
            params, body = bodies[node.name.lower()]
            args = dict(zip(params, node.expressions))

            def put(inner: exp.Expression) -> exp.Expression:
                if isinstance(inner, exp.Column) and not inner.table and inner.name in args:
                    return exp.paren(args[inner.name].copy(), copy=False)
                return inner

            return exp.paren(body.copy().transform(put), copy=False)
        return node

    return tree.copy().transform(swap)
