"""Payment references: the short code a buyer writes on a bank transfer so the money finds its order.

'SJ' (数交) + 8 random Crockford base32 characters + 1 check character, e.g. SJ7K3M9QXA4. Crockford's
alphabet has no I, L, O or U, so a code read aloud or typed from paper cannot be confused; the check
character (Luhn mod 32) catches any single mistyped character and swapped neighbours, so a typo
lands in the reconciliation queue instead of on somebody else's order.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

PREFIX = "SJ"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# what people and bank systems turn Crockford characters into
_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY = 8
LENGTH = len(PREFIX) + BODY + 1
_CANDIDATE = re.compile(r"(?=SJ([0-9A-Z]{%d}))" % (BODY + 1))


def _luhn_mod_n(body: str) -> str:
    """Luhn mod N (N = 32) check character of `body` (characters of ALPHABET)."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _VALUE[char]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def make_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY))
    return PREFIX + body + _luhn_mod_n(body)


def is_valid(reference: str) -> bool:
    ref = reference.upper()
    if len(ref) != LENGTH or not ref.startswith(PREFIX):
        return False
    body, check = ref[len(PREFIX):-1].translate(_LOOKALIKE), ref[-1].translate(_LOOKALIKE)
    return all(c in _VALUE for c in body + check) and _luhn_mod_n(body) == check


def normalize(reference: str) -> str:
    """The canonical form of a reference typed by a person ('sj 7k3m-9qxa4' → 'SJ7K3M9QXA4')."""
    ref = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", reference)).upper()
    return PREFIX + ref[len(PREFIX):].translate(_LOOKALIKE) if ref.startswith(PREFIX) else ref


def find_references(text: str) -> list[str]:
    """Every valid reference in a bank memo, in order. Bank systems insert spaces or hyphens and
    change case, so those are ignored; invalid look-alikes (a failed check character) are not."""
    compact = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", text or "")).upper()
    found: list[str] = []
    for m in _CANDIDATE.finditer(compact):
        candidate = PREFIX + m.group(1).translate(_LOOKALIKE)
        if is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found
