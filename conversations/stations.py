"""Finding the station a citizen means: a code in the text, or a few letters of a name."""

from __future__ import annotations

import difflib
import re

from conversations.survey import StationRef
from conversations.text import normalize

# Words on every name that say nothing about which station it is.
_GENERIC = {normalize(w) for w in ["थाना", "थाने", "चौकी", "पुलिस", "police", "station", "thana",
                                   "chowki", "chauki", "ps", "पीएस", "कार्यालय", "office"]}
_CODE_TOKEN = re.compile(r"[A-Za-z0-9_-]{2,64}")


# "थाना" or "चौकी" alone: the citizen asks for the list of that kind.
_KINDS = {**{normalize(w): "thana" for w in ["थाना", "थाने", "thana", "thane", "police station",
                                             "पुलिस थाना", "ps"]},
          **{normalize(w): "chowki" for w in ["चौकी", "chowki", "chauki", "choki",
                                              "पुलिस चौकी"]}}


def kind_asked(text: str) -> str | None:
    return _KINDS.get(normalize(text[:MAX_TYPED]))


MAX_TYPED = 100  # nobody types a station name longer than this; don't search a novel


def code_in_text(text: str, stations: tuple[StationRef, ...]) -> StationRef | None:
    """A station code anywhere in a message ('फीडबैक BLB05', 'blb05 please')."""
    text = text[:MAX_TYPED * 2]
    by_code = {s.code.upper(): s for s in stations}
    found = {by_code[t.upper()] for t in _CODE_TOKEN.findall(text) if t.upper() in by_code}
    return found.pop() if len(found) == 1 else None


def _keys(station: StationRef) -> list[str]:
    keys = []
    for name in (station.name_hi, station.name_en):
        words = [w for w in normalize(name).split() if w not in _GENERIC]
        keys.append(" ".join(words))
    return keys


def example_name(stations: tuple[StationRef, ...], lang: str) -> str:
    """The shortest distinctive station name, to show what "a few letters" means."""
    names = [" ".join(w for w in s.name(lang).split() if normalize(w) not in _GENERIC)
             for s in stations]
    return min((n for n in names if n), key=len, default="")


def search(text: str, stations: tuple[StationRef, ...], limit: int = 9,
           word_start: bool = False) -> list[StationRef]:
    """Stations whose name contains what was typed; close spellings if none does.

    `word_start`: only names with a word starting with what was typed (at least 4
    letters), for a first message that may just be "hello".
    """
    typed = " ".join(w for w in normalize(text[:MAX_TYPED]).split() if w not in _GENERIC)
    if word_start:
        if len(typed) < 4:
            return []
        return [s for s in stations
                if any(w.startswith(typed) for key in _keys(s) for w in key.split())][:limit]
    if len(typed) < 2:
        return []
    contains = [s for s in stations if any(typed in key for key in _keys(s))]
    if contains:
        return contains[:limit]
    scored = []
    for s in stations:
        best = max(
            difflib.SequenceMatcher(None, typed, word).ratio()
            for key in _keys(s) for word in [key, *key.split()]
        )
        if best >= 0.75:
            scored.append((best, s))
    scored.sort(key=lambda pair: -pair[0])
    return [s for _, s in scored[:limit]]
