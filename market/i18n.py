"""Translations: Chinese is the source language (msgids are the Chinese text); English comes from
the Babel message catalogue `market/locale/en/LC_MESSAGES/messages.po`, compiled in memory at start
so no build step can be forgotten. The current request's locale lives in a context variable."""

from __future__ import annotations

import contextvars
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh", "en")
LOCALE_DIR = Path(__file__).parent / "locale"

_locale: contextvars.ContextVar[str] = contextvars.ContextVar("market_locale", default="zh")


def set_locale(locale: str) -> contextvars.Token:
    return _locale.set(locale if locale in LOCALES else "zh")


def reset_locale(token: contextvars.Token) -> None:
    _locale.reset(token)


def current_locale() -> str:
    return _locale.get()


@lru_cache(maxsize=None)
def translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "zh" or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def gettext(message: str, **params) -> str:
    text = translations(current_locale()).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def pgettext(context: str, message: str, **params) -> str:
    """A message whose English depends on where it is shown (a short label in the top bar)."""
    text = translations(current_locale()).pgettext(context, message)
    return text.format(**params) if params else text


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translated where it is shown)."""
    return message
