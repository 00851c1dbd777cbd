"""What a sandbox query may be, decided on its syntax tree before anything runs (sqlglot, DuckDB dialect).

DuckDB itself is locked down (no files, network, extensions or settings: `engine`), but its catalog
functions still answer and a plain `SELECT x FROM data` would hand rows out. So the SQL is held to a
small shape, everything outside an allow-list refused with a stable code:

- one statement, a SELECT; no CTE, subquery, join, set operation, window, DISTINCT output, SELECT *;
- it reads only the table `data` (no other name, no schema-qualified name, no table function);
- functions from an allow-list of aggregates and scalar basics (arithmetic, strings, dates);
- every output column is a GROUP BY expression or an aggregate (a global aggregate has no GROUP BY);
- a personal or identifying column (from the profile) appears only inside count() or in WHERE; never
  in an output, a GROUP BY, HAVING, ORDER BY or another function.

The k rule is then enforced by running a rewritten query (`Plan.sql`): the user's SELECT with
`count(*) AS "__sandbox_k"` appended, which in a grouped query is each group's number of source rows and
in a global aggregate the number of rows the WHERE kept. Rows whose count is under k are suppressed by
the service before anything leaves. A WHERE clause is measured separately (`Plan.where_sql`: rows kept
and rows left out) so that a filter singling out fewer than k rows, or leaving out fewer than k, is refused.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from market import sql_limits
from market.errors import DomainError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command" is our refusal, not a warning

K_COLUMN = "__sandbox_k"
MAX_SQL_CHARS = 10_000


def _classes(*names: str) -> frozenset[type]:
    # getattr: an expression class missing from a sqlglot version is simply not allowed
    return frozenset(c for c in (getattr(exp, n, None) for n in names) if isinstance(c, type))


AGGREGATES = _classes("Count", "Sum", "Avg", "Min", "Max", "Median", "Stddev", "StddevPop", "StddevSamp",
                      "Variance", "VariancePop", "CountIf", "ApproxDistinct", "Quantile", "ApproxQuantile")
SCALARS = _classes(
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Ln", "Log", "Pow", "Sign", "Cast", "TryCast", "Coalesce", "Nullif",
    "If", "Case", "Greatest", "Least", "Substring", "Upper", "Lower", "Length", "Trim", "Concat", "DPipe",
    "Left", "Right", "StrPosition", "Replace", "Extract", "Year", "Month", "Day", "Quarter", "Week", "DayOfWeek",
    "DayOfYear", "TimestampTrunc", "DateTrunc", "TimeToStr", "StrToDate", "StrToTime", "DateDiff", "DateAdd",
    "DateSub", "TsOrDsToDate", "Date", "SafeDivide")
# functions sqlglot does not know by class (parsed as Anonymous), by lower-case name
ANONYMOUS = frozenset({"date_part", "datepart", "strftime", "strptime", "substr", "hour", "minute", "isodow",
                       "dayofmonth", "yearweek", "round_even", "trunc", "even", "lpad", "rpad", "contains",
                       "starts_with", "ends_with", "prefix", "suffix", "regexp_matches"})
SYNTAX = _classes(
    "Select", "From", "Table", "TableAlias", "Where", "Group", "Having", "Order", "Ordered", "Limit", "Offset",
    "Column", "Identifier", "Literal", "Alias", "Paren", "Neg", "Not", "And", "Or", "EQ", "NEQ", "NullSafeEQ",
    "NullSafeNEQ", "GT", "GTE", "LT", "LTE", "Is", "In", "Between", "Like", "ILike", "Add", "Sub", "Mul", "Div",
    "IntDiv", "Mod", "Null", "Boolean", "DataType", "DataTypeParam", "Var", "Interval", "Tuple", "Filter",
    "Distinct", "Star", "If", "Case")
ALLOWED = AGGREGATES | SCALARS | SYNTAX


@dataclass(frozen=True)
class Plan:
    """A checked query ready for the engine."""

    sql: str  # the user's SELECT with the per-group source row count appended as K_COLUMN
    where_sql: str | None  # SELECT rows kept by the WHERE, all rows (None without a WHERE)
    fingerprint: str  # the query with every constant replaced: near-identical queries share it
    grouped: bool


def refuse(error: DomainError) -> DomainError:
    """A refusal of the query: answered 422 with its code (and logged by the service)."""
    error.status_code = 422
    return error


def _name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.key


def _statement(sql: str) -> exp.Select:
    if not sql or not sql.strip():
        raise refuse(DomainError("sandbox.empty", "请输入一条 SELECT 查询"))
    if len(sql) > MAX_SQL_CHARS:
        raise refuse(DomainError("sandbox.too_long", "查询不能超过 {n} 个字符", n=MAX_SQL_CHARS))
    try:
        statements = sql_limits.parse(sql, read="duckdb")
    except sql_limits.TooDeep:
        raise refuse(DomainError("sandbox.too_deep", "查询嵌套过深（超过 {n} 层），请简化后再试",
                                 n=sql_limits.MAX_DEPTH)) from None
    except (ParseError, TokenError) as e:
        kind = sql.strip().split(None, 1)[0].upper()[:20]
        if kind != "SELECT":  # EXPORT DATABASE and friends sqlglot cannot even parse
            raise refuse(DomainError("sandbox.select_only", "只允许一条 SELECT 查询，{kind} 语句不允许（沙箱中不能读写文件、挂载数据库、"
                         "安装或加载扩展、修改设置）", kind=kind)) from e
        raise refuse(DomainError("sandbox.parse_error", "无法解析查询：{detail}", detail=str(e).splitlines()[0][:200])) from e
    if len(statements) != 1:
        raise refuse(DomainError("sandbox.one_statement", "每次只能执行一条 SELECT 查询"))
    statement = statements[0]
    if not isinstance(statement, exp.Select):
        kind = (statement.name if isinstance(statement, exp.Command) else statement.key).upper()[:20]
        raise refuse(DomainError("sandbox.select_only", "只允许一条 SELECT 查询，{kind} 语句不允许（沙箱中不能读写文件、挂载数据库、"
                     "安装或加载扩展、修改设置）", kind=kind))
    return statement


def _check_tables(select: exp.Select) -> None:
    """No table but `data` is named."""
    tables = list(select.find_all(exp.Table))
    for table in tables:
        if isinstance(table.this, exp.Func) or table.args.get("db") or table.args.get("catalog") \
                or not isinstance(table.this, exp.Identifier) or table.name.lower() != "data":
            shown = _name(table.this) if isinstance(table.this, exp.Func) else table.sql(dialect="duckdb")
            raise refuse(DomainError("sandbox.table_not_allowed", "只能查询表 data（本授权的数据），不能读取 {name}（文件、表函数、"
                         "系统目录和其他数据都不在沙箱之内）", name=shown[:100]))


def _check_from(select: exp.Select) -> str | None:
    """The query reads `data` once; returns its alias, if any."""
    tables = list(select.find_all(exp.Table))
    source = select.args.get("from_") or select.args.get("from")
    if len(tables) != 1 or source is None or source.this is not tables[0]:
        raise refuse(DomainError("sandbox.from_data", "查询必须且只能 FROM data（不支持连接、子查询）"))
    alias = tables[0].alias
    return alias.lower() if alias else None


def _check_nodes(select: exp.Select) -> None:
    for node in select.walk():
        cls = type(node)
        if cls in ALLOWED:
            continue
        if cls is exp.Anonymous and _name(node) in ANONYMOUS:
            continue
        if isinstance(node, exp.Func):
            raise refuse(DomainError("sandbox.function_not_allowed", "函数 {name} 不在沙箱允许的函数之列（只允许聚合、算术、"
                         "字符串和日期的基本函数）", name=_name(node)[:60]))
        raise refuse(DomainError("sandbox.syntax_not_allowed", "沙箱查询不支持 {what}：只能对 data 做单条聚合查询（不支持子查询、"
                     "连接、集合运算、窗口函数和 DISTINCT 输出）", what=node.key.upper()[:40]))
    if select.args.get("distinct"):
        raise refuse(DomainError("sandbox.syntax_not_allowed", "沙箱查询不支持 {what}：只能对 data 做单条聚合查询（不支持子查询、"
                     "连接、集合运算、窗口函数和 DISTINCT 输出）", what="SELECT DISTINCT"))
    for star in select.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            raise refuse(DomainError("sandbox.star", "不能用 * 输出明细，只能写 count(*)"))
    for distinct in select.find_all(exp.Distinct):
        if type(distinct.parent) not in AGGREGATES:
            raise refuse(DomainError("sandbox.syntax_not_allowed", "沙箱查询不支持 {what}：只能对 data 做单条聚合查询（不支持子查询、"
                         "连接、集合运算、窗口函数和 DISTINCT 输出）", what="DISTINCT"))


def _aggregate_of(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None:
        if type(parent) in AGGREGATES:
            return parent
        parent = parent.parent
    return None


def _in_clause(node: exp.Expression, clause: type) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, clause):
            return True
        parent = parent.parent
    return False


def _check_columns(select: exp.Select, columns: dict[str, str], personal: set[str], alias: str | None) -> None:
    """Every column exists; personal ones only in count() or WHERE."""
    outputs = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    if K_COLUMN in outputs:
        raise refuse(DomainError("sandbox.reserved_name", "列名 {name} 保留给沙箱使用", name=K_COLUMN))
    for col in select.find_all(exp.Column):
        name = col.name.lower()
        if col.table and col.table.lower() not in ("data", alias):
            raise refuse(DomainError("sandbox.table_not_allowed", "只能查询表 data（本授权的数据），不能读取 {name}（文件、表函数、"
                         "系统目录和其他数据都不在沙箱之内）", name=col.table[:100]))
        if name not in columns:
            if name in outputs and not col.table:
                continue  # an output alias used in ORDER BY / HAVING / GROUP BY
            raise refuse(DomainError("sandbox.unknown_column", "数据中没有列 {name}", name=col.name[:100]))
        if columns[name] in personal:
            agg = _aggregate_of(col)
            in_count = isinstance(agg, exp.Count) and (col.parent is agg or (
                isinstance(col.parent, exp.Distinct) and col.parent.parent is agg))
            if not in_count and not (_in_clause(col, exp.Where) and agg is None):
                raise refuse(DomainError("sandbox.personal_column", "列 {name} 是个人信息或直接标识符，不能出现在输出、GROUP BY、"
                             "HAVING 或排序中，只能用 count 计数或在 WHERE 中筛选", name=columns[name]))


def _resolve_group(select: exp.Select) -> list[exp.Expression]:
    """GROUP BY expressions with ordinals and output aliases resolved to what they stand for."""
    group = select.args.get("group")
    if group is None:
        return []
    if group.args.get("all"):
        raise refuse(DomainError("sandbox.group_by_all", "请写出 GROUP BY 的列，不支持 GROUP BY ALL"))
    outputs = {e.alias.lower(): e.this for e in select.expressions if isinstance(e, exp.Alias)}
    resolved = []
    for item in group.expressions:
        if isinstance(item, exp.Literal) and item.is_int:
            n = int(item.this)
            if not 1 <= n <= len(select.expressions):
                raise refuse(DomainError("sandbox.group_by_position", "GROUP BY {n} 超出了输出列的范围", n=n))
            target = select.expressions[n - 1]
            resolved.append(target.this if isinstance(target, exp.Alias) else target)
        elif isinstance(item, exp.Column) and not item.table and item.name.lower() in outputs:
            resolved.append(outputs[item.name.lower()])
        else:
            resolved.append(item)
    for item in resolved:
        if item.find(*AGGREGATES):
            raise refuse(DomainError("sandbox.group_by_aggregate", "GROUP BY 中不能有聚合函数"))
    return resolved


def _closed(node: exp.Expression, groups: set[str]) -> bool:
    """An expression whose value is the same for every row of a group: a group key, an aggregate, a constant."""
    if node.sql(dialect="duckdb") in groups or type(node) in AGGREGATES:
        return True
    if isinstance(node, exp.Column):
        return False
    return all(_closed(child, groups) for child in node.iter_expressions())


def _fingerprint(select: exp.Select) -> str:
    shape = select.copy().transform(lambda n: exp.Placeholder() if isinstance(n, exp.Literal) else n)
    return hashlib.sha256(shape.sql(dialect="duckdb").lower().encode()).hexdigest()[:32]


def check(sql: str, *, columns: list[str], personal: set[str]) -> Plan:
    """Refuse (DomainError, status 422) or return the query to run; `columns` are the data's column names,
    `personal` those that identify or describe a person."""
    select = _statement(sql)
    _check_tables(select)
    _check_nodes(select)
    alias = _check_from(select)
    by_lower = {c.lower(): c for c in columns}
    _check_columns(select, by_lower, personal, alias)
    groups = _resolve_group(select)
    keys = {g.sql(dialect="duckdb") for g in groups}
    for output in select.expressions:
        target = output.this if isinstance(output, exp.Alias) else output
        if not _closed(target, keys):
            raise refuse(DomainError("sandbox.not_aggregate", "结果只能以聚合形式输出：{expr} 必须出现在 GROUP BY 中，或用聚合函数"
                         "（count、sum、avg 等）汇总", expr=output.sql(dialect="duckdb")[:120]))
    if not groups and not any(output.find(*AGGREGATES) for output in select.expressions):
        raise refuse(DomainError("sandbox.not_aggregate", "结果只能以聚合形式输出：{expr} 必须出现在 GROUP BY 中，或用聚合函数"
                     "（count、sum、avg 等）汇总", expr=select.expressions[0].sql(dialect="duckdb")[:120]))
    run = select.copy()
    if groups:  # ordinals and aliases written out, so the appended count cannot shift what they point at
        run.set("group", exp.Group(expressions=[g.copy() for g in groups]))
    run = run.select(exp.alias_(exp.Count(this=exp.Star()), K_COLUMN, quoted=True), copy=False)
    where_sql = None
    where = select.args.get("where")
    if where is not None:
        table = exp.to_table("data")
        if alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        kept = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=where.this.copy()))
        where_sql = exp.select(kept, exp.Count(this=exp.Star())).from_(table).sql(dialect="duckdb")
    return Plan(sql=run.sql(dialect="duckdb"), where_sql=where_sql, fingerprint=_fingerprint(select),
                grouped=bool(groups))
