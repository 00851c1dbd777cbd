"""The English catalogue keeps up with the code: every message marked in Python or in a template
(extracted with babel.cfg, as scripts/i18n.sh does) has an English translation with the same
placeholders, and the catalogue holds nothing fuzzy or obsolete.

When a test here fails after you added or changed Chinese text: run `scripts/i18n.sh`, fill in the
empty msgstr entries of market/locale/en/LC_MESSAGES/messages.po, and run the tests again."""

from __future__ import annotations

import fnmatch
import inspect
import os
import string
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from market import i18n

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
PO_PATH = ROOT / "market" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
# Same as `--ignore-dirs` in scripts/i18n.sh. Babel's default filter would also skip every
# directory starting with "_", i.e. templates/_macros.
IGNORE_DIRS = (".*", "__pycache__", "node_modules")
FIX = "run scripts/i18n.sh and translate the empty entries in market/locale/en/LC_MESSAGES/messages.po"


def _keep_dir(dirpath: str) -> bool:
    name = os.path.basename(dirpath)
    return not any(fnmatch.fnmatch(name, pattern) for pattern in IGNORE_DIRS)


def extract_messages() -> dict[tuple[str | None, str | tuple[str, ...]], list[str]]:
    """(context, msgid) -> ["file:line", ...] for every message in code and templates."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(BABEL_CFG))
    found: dict = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS, directory_filter=_keep_dir):
        key = message if isinstance(message, str) else tuple(message)
        found[(context, key)].append(f"{filename}:{lineno}")
    return dict(found)


def load_po():
    with PO_PATH.open("rb") as fh:
        return read_po(fh, locale="en")


def _singular(msgid) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def placeholders(text: str) -> set[str]:
    """Names of the str.format fields in `text` ({name}, {n:,}, {0} ...); raises on broken braces."""
    return {field.split(".")[0].split("[")[0]
            for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


@pytest.fixture(scope="module")
def extracted():
    return extract_messages()


@pytest.fixture(scope="module")
def po():
    return load_po()


def test_extraction_covers_python_templates_and_macros(extracted):
    """Guards the extraction set-up itself: all three kinds of source yield messages."""
    files = {loc.split(":")[0] for locs in extracted.values() for loc in locs}
    assert any(f.startswith("market/") and f.endswith(".py") for f in files), files
    assert any(f.startswith("templates/_macros/") for f in files), "templates/_macros was skipped"
    assert any(f.startswith("templates/market/") for f in files), files
    # the domain-error message argument and a template call with keyword arguments
    ids = {_singular(msgid) for _ctx, msgid in extracted}
    assert "机构名称应为 2 到 200 个字符" in ids  # DomainError("org.name_invalid", "…")
    assert "欢迎，{name}" in ids  # _("欢迎，{name}", name=…)


def test_every_message_has_english(extracted, po):
    missing = []
    for (context, msgid), locations in sorted(extracted.items(), key=lambda kv: kv[1][0]):
        entry = po.get(msgid, context=context)
        if entry is None or entry.fuzzy or not all(s and s.strip() for s in _strings(entry)):
            missing.append(f"  {locations[0]}: {_singular(msgid)!r}")
    assert not missing, f"{len(missing)} message(s) without English ({FIX}):\n" + "\n".join(missing)


def test_placeholders_match(po):
    wrong = []
    for m in po:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        for i, text in enumerate(_strings(m)):
            if not text:
                continue
            source = ids[min(i, len(ids) - 1)]
            try:
                got, want = placeholders(text), placeholders(source)
            except ValueError as exc:
                wrong.append(f"  {_singular(m.id)!r}: broken braces in {text!r} ({exc})")
                continue
            if got != want:
                wrong.append(f"  {_singular(m.id)!r} -> {text!r}: {sorted(got)} != {sorted(want)}")
    assert not wrong, "placeholders differ between msgid and English:\n" + "\n".join(wrong)


def test_no_fuzzy_obsolete_or_dead_entries(extracted, po):
    assert not po.fuzzy, "the catalogue header is marked fuzzy"
    fuzzy = [_singular(m.id) for m in po if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries (check the translation, then remove the fuzzy flag): {fuzzy}"
    assert not po.obsolete, f"obsolete (#~) entries, {FIX}: {list(po.obsolete)}"
    dead = [_singular(m.id) for m in po if m.id and (m.context, m.id) not in extracted]
    assert not dead, f"entries no longer in the source, {FIX}: {dead}"


def test_locale_switches_language():
    token = i18n.set_locale("en")
    try:
        assert i18n.gettext("审计链") == "Audit chain"
        assert i18n._("欢迎，{name}", name="张明") == "Welcome, 张明"
        assert i18n.gettext("这句话不在目录里") == "这句话不在目录里"  # unknown text falls back to the source
    finally:
        i18n.reset_locale(token)
    token = i18n.set_locale("zh")
    try:
        assert i18n.gettext("审计链") == "审计链"
        assert i18n._("欢迎，{name}", name="张明") == "欢迎，张明"
    finally:
        i18n.reset_locale(token)
    assert i18n.current_locale() == "zh"


def _messages_invisible_to_extraction() -> dict[str, str]:
    """User-facing messages that are not a literal argument of an extracted call."""
    from market import errors, web

    found = {}
    for cls in (errors.DomainError, *errors.DomainError.__subclasses__()):
        param = inspect.signature(cls.__init__).parameters.get("message")
        if param is not None and isinstance(param.default, str):
            found[param.default] = f"market/errors.py: default message of {cls.__name__}"
    for code, (_status, message) in getattr(web, "_STORAGE_MESSAGES", {}).items():
        found[message] = f"market/web.py: _STORAGE_MESSAGES[{code!r}]"
    return found


def test_indirect_messages_are_extracted(extracted):
    ids = {_singular(msgid) for _ctx, msgid in extracted}
    missing = [f"  {where}: {msg!r}" for msg, where in _messages_invisible_to_extraction().items()
               if msg not in ids]
    assert not missing, "wrap these in N_() so they are extracted:\n" + "\n".join(missing)
