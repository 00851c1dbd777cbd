"""The suite itself: no test may depend on row order or on timing (issue 7, finding 10).

A flaky test blocks good work. Two shapes of it are cheap to find in the source:
- a query's "first row" with neither a filter nor an order (`Table.select().first()`): with several
  rows the database may return any of them (PostgreSQL moves an updated row to the end of the heap);
- a sleep that stands in for "the other side has finished" instead of waiting for it. A sleep is
  allowed only inside a loop that polls a condition (with a deadline), or where waiting longer can
  only make the outcome more certain (listed below, with the reason).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

# (file, function): why a bare sleep there is not synchronisation
SLEEP_ALLOWED = {
    ("market/test_storage.py", "test_nanio_presigned_url_signature_and_expiry"):
        "lets a 1-second presigned URL expire; a longer stall only makes it more expired",
    ("market/test_bounded.py", "_sleep"):
        "the work a child process does to overrun its time budget; nothing waits on it",
}


def _chain(node: ast.AST) -> list[str]:
    """Method names along a call chain like A.select(...).where(...).first(), outermost last."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Await):
            node = node.value
        else:
            return list(reversed(names))


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _problems(path: Path, root: Path = TESTS) -> list[str]:
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "first":
            chain = _chain(node)
            if "select" in chain and not {"where", "order_by"} & set(chain):
                found.append(f"{rel}:{node.lineno}: .first() of an unfiltered, unordered select")
    for fn in _functions(tree):
        loops = [n for n in ast.walk(fn) if isinstance(n, (ast.While, ast.For, ast.AsyncFor))]
        in_loop = {id(n) for loop in loops for n in ast.walk(loop)}
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sleep"
                    and id(node) not in in_loop and (rel, fn.name) not in SLEEP_ALLOWED):
                found.append(f"{rel}:{node.lineno}: sleep in {fn.name}() used as synchronisation")
    return found


def test_no_test_depends_on_row_order_or_sleeps():
    problems = [p for path in sorted(TESTS.rglob("*.py")) for p in _problems(path)]
    assert not problems, "\n".join(problems)


def test_the_checker_sees_both_shapes(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def t():\n"
        "    row = await OutboxMessage.select().first()\n"
        "    ok = await OutboxMessage.select().where(OutboxMessage.id == 1).first()\n"
        "    ordered = await AuditEvent.select().order_by(AuditEvent.seq).first()\n"
        "    await asyncio.sleep(0.2)\n"
        "    while True:\n"
        "        await asyncio.sleep(0.1)\n", encoding="utf-8")
    assert [p.split(": ", 1)[0] for p in _problems(sample, tmp_path)] == ["sample.py:2", "sample.py:5"]
