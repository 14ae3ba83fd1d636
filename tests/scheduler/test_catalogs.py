"""The catalogs: Hindi and English complete, nothing fuzzy, the template up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from scheduler.catalogs import Catalogs
from tests.conftest import ROOT

LOCALE = ROOT / "locale"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE / lang / "LC_MESSAGES" / "prayas.po").open("rb") as handle:
        return read_po(handle)


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
         "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", ["hi", "en"])
def test_every_message_is_translated_and_none_is_fuzzy(lang: str) -> None:
    bad = [m.id for m in _catalog(lang) if m.id and (not m.string or m.fuzzy)]
    assert bad == [], f"{lang}: untranslated or fuzzy: {bad[:3]}"


@pytest.mark.parametrize("lang", ["hi", "en"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    for m in _catalog(lang):
        if m.id:
            assert set(PLACEHOLDER.findall(m.string)) == set(PLACEHOLDER.findall(m.id)), m.id


def test_catalogs_hold_every_message_in_the_code_and_survey(tmp_path: Path) -> None:
    in_code = _extracted(tmp_path)
    for lang in ("hi", "en"):
        in_catalog = {m.id for m in _catalog(lang) if m.id}
        missing = in_code - in_catalog
        assert not missing, f"run the extract/update steps in README: {sorted(missing)[:3]}"


def test_hindi_is_actually_hindi() -> None:
    """Every Hindi message carries Devanagari (or is a bare template)."""
    for m in _catalog("hi"):
        if m.id and re.search(r"[A-Za-z]", PLACEHOLDER.sub("", m.id)):
            assert re.search(r"[\u0900-\u097F]", m.string), m.id


def test_rendering_uses_the_language_asked_for() -> None:
    catalogs = Catalogs.load(["hi", "en"])
    assert catalogs.text("hi", "Yes") == "हाँ"
    assert catalogs.text("en", "Yes") == "Yes"
