#!/usr/bin/env bash
# Message catalogue maintenance. Chinese is the source language (msgids are the Chinese text);
# English lives in market/locale/en/LC_MESSAGES/messages.po (compiled in memory at start-up).
#
#   scripts/i18n.sh          extract messages (babel.cfg) into market/locale/messages.pot and merge
#                            them into the en catalogue: new msgids arrive with an empty msgstr,
#                            existing translations are kept, removed msgids are dropped.
#                            Then fill in every empty msgstr in messages.po.
#   scripts/i18n.sh --check  change nothing; exit 1 if messages.pot is stale, if messages.po is not
#                            in step with it, or if any entry is untranslated, fuzzy or obsolete.
#
# Idempotent: a file is rewritten only when its content (apart from the creation date) changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYBABEL=.venv/bin/pybabel
PYTHON=.venv/bin/python
POT=market/locale/messages.pot
PO=market/locale/en/LC_MESSAGES/messages.po

mode=update
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keep these options in step with extract_messages() in tests/market/test_i18n.py.
# --ignore-dirs: babel's default skips "_*" directories, i.e. templates/_macros.
# --add-location=file: no line numbers, so shifting code does not churn the catalogue.
if ! "$PYBABEL" extract -F babel.cfg -o "$tmp/messages.pot" \
    --ignore-dirs=".* __pycache__ node_modules" \
    --add-location=file --no-wrap \
    --project=public-data-market --version=0.1 \
    --copyright-holder="public-data-market" \
    . >"$tmp/extract.log" 2>&1; then
  # the last "extracting messages from <file>" line names the file that failed (e.g. template syntax)
  grep -v '^extracting messages from' "$tmp/extract.log" | tail -n 3 >&2
  grep '^extracting messages from' "$tmp/extract.log" | tail -n 1 | sed 's/ (.*//; s/^/i18n: failed while /' >&2
  exit 1
fi

# same content apart from the header's creation date?
same_pot() {
  [[ -f "$2" ]] && cmp -s <(grep -v '^"POT-Creation-Date:' "$1") <(grep -v '^"POT-Creation-Date:' "$2")
}

if [[ $mode == check ]]; then
  status=0
  if ! same_pot "$tmp/messages.pot" "$POT"; then
    echo "i18n: $POT is stale; run scripts/i18n.sh" >&2
    diff -u <(grep '^msgid' "$POT" 2>/dev/null | sort -u) <(grep '^msgid' "$tmp/messages.pot" | sort -u) \
      | grep '^[-+]msgid' | sed 's/^/  /' >&2 || true
    status=1
  fi
  "$PYTHON" - "$tmp/messages.pot" "$PO" <<'PY' || status=1
import sys
from babel.messages.pofile import read_po

pot_path, po_path = sys.argv[1:]
try:
    with open(po_path, "rb") as fh:
        po = read_po(fh, locale="en")
except FileNotFoundError:
    sys.exit(f"i18n: {po_path} is missing; run scripts/i18n.sh")
with open(pot_path, "rb") as fh:
    pot = read_po(fh)
problems = []
for m in pot:
    if not m.id:
        continue
    t = po.get(m.id, context=m.context)
    strings = [] if t is None else (t.string if isinstance(t.string, (list, tuple)) else [t.string])
    if t is None:
        problems.append(f"not in {po_path} (run scripts/i18n.sh): {m.id!r}")
    elif not strings or not all(s and s.strip() for s in strings):
        problems.append(f"untranslated: {m.id!r}")
    elif t.fuzzy:
        problems.append(f"fuzzy: {m.id!r}")
for m in po:
    if m.id and pot.get(m.id, context=m.context) is None:
        problems.append(f"not in the source any more (run scripts/i18n.sh): {m.id!r}")
for key in po.obsolete:
    problems.append(f"obsolete entry: {key!r}")
if po.fuzzy:
    problems.append("catalogue header is marked fuzzy")
for p in problems:
    print("i18n:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  [[ $status -eq 0 ]] && echo "i18n: catalogue complete ($(grep -c '^msgid "[^"]' "$tmp/messages.pot") messages)"
  exit $status
fi

mkdir -p "$(dirname "$POT")" "$(dirname "$PO")"
if ! same_pot "$tmp/messages.pot" "$POT"; then
  cp "$tmp/messages.pot" "$POT"
  echo "i18n: wrote $POT"
fi

if [[ ! -f "$PO" ]]; then
  "$PYBABEL" -q init -D messages -l en -i "$POT" -o "$PO" --no-wrap
  echo "i18n: created $PO"
else
  # --no-fuzzy-matching: a new msgid starts empty instead of borrowing a near match marked fuzzy
  # (fuzzy entries are ignored at run time anyway). --ignore-obsolete: drop removed msgids.
  cp "$PO" "$tmp/messages.po"
  "$PYBABEL" -q update -D messages -l en -i "$POT" -o "$tmp/messages.po" \
    --no-fuzzy-matching --ignore-obsolete --no-wrap
  if ! cmp -s "$tmp/messages.po" "$PO"; then
    cp "$tmp/messages.po" "$PO"
    echo "i18n: updated $PO"
  fi
fi

missing=$("$PYTHON" - "$PO" <<'PY'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as fh:
    po = read_po(fh, locale="en")
for m in po:
    strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
    if m.id and (m.fuzzy or not all(s and s.strip() for s in strings)):
        print(m.id if isinstance(m.id, str) else m.id[0])
PY
)
if [[ -n $missing ]]; then
  echo "i18n: $(printf '%s\n' "$missing" | wc -l) message(s) still need English in $PO:"
  printf '%s\n' "$missing" | sed 's/^/  /'
fi
