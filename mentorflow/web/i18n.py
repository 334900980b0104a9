"""UI text in fi / sv / en from babel message catalogues (``translations/<locale>/.../*.po``).

English is the source language (the msgids); the catalogues are read with babel when the app is
built, so there is no compile step to forget. A test extracts every marked string from the
templates and the code and fails on one missing from a catalogue.
"""

from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.pofile import read_po

LOCALES = ("fi", "sv", "en")
DEFAULT_LOCALE = "en"
CATALOGUES = Path(__file__).parent / "translations"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


class Translations:
    def __init__(self, directory: Path = CATALOGUES) -> None:
        self._messages: dict[str, dict[str, str]] = {"en": {}}
        for locale in LOCALES[:-1]:
            with (directory / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
                catalogue = read_po(f, locale=locale)
            self._messages[locale] = {
                str(m.id): str(m.string) for m in catalogue if m.id and m.string
            }

    def gettext(self, locale: str, message: str) -> str:
        return self._messages.get(locale, {}).get(message, message)

    def known(self, locale: str) -> set[str]:
        return set(self._messages[locale])


def supported(locale: str | None) -> str | None:
    return locale if locale in LOCALES else None


def from_header(accept_language: str | None) -> str:
    """The best of our locales for an Accept-Language header (English when none fits)."""
    if not accept_language:
        return DEFAULT_LOCALE
    preferred = [
        part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")
    ]
    found = negotiate_locale(preferred, LOCALES, sep="_")
    if found is None:
        found = negotiate_locale([p.split("_")[0] for p in preferred], LOCALES)
    return found or DEFAULT_LOCALE


def language_name(locale: str) -> str:
    """The language's own name ("suomi", "svenska", "English"), for the language switcher."""
    name: str = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]
