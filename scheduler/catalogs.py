"""Catalogs and rendering: turn the engine's message ids into text in one language.

The `.po` files in `locale/` are the source of truth. They are compiled in memory
when the app starts, so a forgotten `pybabel compile` can never ship stale Hindi.
"""

from __future__ import annotations

import gettext
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from conversations.effects import Msg, Reply
from scheduler.config import ConfigError

DOMAIN = "prayas"


def locale_dir() -> Path:
    """The checkout's locale/, else the copy the wheel installed."""
    checkout = Path(__file__).resolve().parent.parent / "locale"
    return checkout if checkout.is_dir() else _installed_locale()


def _installed_locale() -> Path:
    # The wheel puts the catalogs in <scheme data>/share/prayas/locale, which is
    # sys.prefix in a virtual environment but ~/.local for `pip install --user`: the
    # install's own record says where they went.
    try:
        dist = metadata.distribution("prayas")
    except metadata.PackageNotFoundError:
        return Path(sys.prefix) / "share" / "prayas" / "locale"
    for file in dist.files or ():
        parts = file.parts
        if parts[-4:] == ("hi", "LC_MESSAGES", f"{DOMAIN}.po") and "locale" in parts:
            return Path(str(dist.locate_file(file))).resolve().parent.parent.parent
    return Path(sys.prefix) / "share" / "prayas" / "locale"


def _compile(po_path: Path) -> gettext.GNUTranslations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Catalogs:
    """One translation table per language; unknown languages fall back to the msgid."""

    tables: dict[str, gettext.NullTranslations]

    @classmethod
    def load(cls, languages: Iterable[str], directory: Path | None = None) -> Catalogs:
        directory = directory or locale_dir()
        tables: dict[str, gettext.NullTranslations] = {}
        for lang in languages:
            po = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            if not po.exists():
                raise ConfigError(f"languages: no catalog {po} for {lang!r}; add it with "
                                  "`pybabel init` (README, Languages) or remove the language")
            tables[lang] = _compile(po)
        return cls(tables)

    def text(self, lang: str, msg: Msg | str) -> str:
        if isinstance(msg, str):
            return self._gettext(lang, msg)
        params = {k: self.text(lang, v) if isinstance(v, Msg) else v for k, v in msg.params}
        template = self._gettext(lang, msg.id)
        return template.format(**params) if params else template

    def _gettext(self, lang: str, msgid: str) -> str:
        table = self.tables.get(lang)
        return table.gettext(msgid) if table else msgid

    def translations_of(self, msgid: str) -> list[str]:
        return [t.gettext(msgid) for t in self.tables.values()]

    def render(self, reply: Reply, numbered: bool = True) -> str:
        """A reply as plain text; choices as a numbered list unless shown as buttons."""
        lines = [self.text(reply.lang, line) for line in reply.lines]
        if numbered:
            for choice in reply.choices:
                emoji = f"{choice.emoji} " if choice.emoji else ""
                lines.append(f"{choice.number}. {emoji}{self.text(reply.lang, choice.label)}")
        return "\n".join(lines)
