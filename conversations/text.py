"""Turning what people type into something comparable.

Citizens type Devanagari with or without chandrabindu and nukta, Hinglish in a
dozen spellings, digits in two scripts, keycap and face emoji. Everything is
normalised the same way on both sides of a comparison.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
# chandrabindu -> anusvara, nukta dropped: हाँ = हां, ज़्यादा = ज्यादा
_FOLD = str.maketrans({"\u0901": "\u0902", "\u093c": None, "\u200c": None, "\u200d": None,
                       "\ufe0f": None, "\ufe0e": None, "\u20e3": None})
_PUNCT = re.compile(r"[\s\.,;:!?\"'`()\[\]{}<>|\\/*_~#@&+=।॥…“”‘’-]+")


def clean(text: str) -> str:
    """Drop control characters (keep line breaks) and surrounding space; NFC."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(
        ch for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
        or ch in "\u200c\u200d"
    )
    return kept.strip()


_D = "[0-9०-९]"  # either script's digits
_PHONE_LIKE = re.compile(
    rf"(?<![0-9०-९])(?:"
    rf"(?:\+?(?:91|९१)[\s-]?|0|०)?[6-9६-९](?:{_D}{{9}}|{_D}{{4}}[\s-]{_D}{{5}}"
    rf"|{_D}{{2}}[\s-]{_D}{{3}}[\s-]{_D}{{4}})"  # a mobile: 98765 43210, +91-987-654-3210
    rf"|[0०]{_D}{{2,4}}[\s-]{_D}{{6,8}}"  # a landline with its STD code: 0771-2345678
    rf"|{_D}{{4}}[\s-]{_D}{{4}}[\s-]{_D}{{4}}"  # an Aadhaar: 1234 5678 9012
    rf"|{_D}{{10,}}"  # any other long run: a landline with its code, an account
    rf")(?![0-9०-९])")
HIDDEN = "[…]"


def hide_numbers(text: str) -> str:
    """A comment is shown to the station and exported: a phone or Aadhaar number the
    citizen typed into it would say who they are. Dates, FIR and case numbers, amounts
    and times are shorter and stay."""
    return _PHONE_LIKE.sub(HIDDEN, text)


def normalize(text: str) -> str:
    """A canonical form for matching: folded case, ASCII digits, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_DEVANAGARI_DIGITS).translate(_FOLD)
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def whole_number(text: str) -> int | None:
    """'4', '४', '4.', '4️⃣', '(4)', '4/5' -> 4; anything with other words -> None."""
    norm = normalize(text)
    if norm.isdigit() and len(norm) <= 3:
        return int(norm)
    ascii_digits = unicodedata.normalize("NFKC", text).translate(_DEVANAGARI_DIGITS)
    match = re.fullmatch(r"\s*(\d)\s*(?:/|out of)\s*5\s*", ascii_digits, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


_STARS = set("⭐★🌟")


def star_count(text: str) -> int | None:
    """'⭐⭐⭐⭐' -> 4."""
    stripped = "".join(ch for ch in text if not ch.isspace() and ch != "\ufe0f")
    if stripped and all(ch in _STARS for ch in stripped) and len(stripped) <= 5:
        return len(stripped)
    return None


def emoji_only(text: str) -> list[str]:
    """The emoji in a message that has nothing else; [] when there is other text."""
    found: list[str] = []
    for ch in text:
        if ch.isspace() or ch in "\ufe0f\u200d" or unicodedata.category(ch) == "Sk":
            continue  # skin-tone modifiers and joiners ride on the emoji before them
        if unicodedata.category(ch) == "So":
            found.append(ch)
        else:
            return []
    return found


def match_phrases(text: str, phrases: Mapping[str, str]) -> tuple[set[str], list[str]]:
    """Find known phrases in `text`, longest first, without overlap.

    `phrases` maps a normalised phrase to what it means (an option id). Returns the
    meanings found and the tokens no phrase accounted for.
    """
    words = tokens(text)
    used = [False] * len(words)
    meanings: set[str] = set()
    for phrase in sorted(phrases, key=lambda p: (-len(p.split()), -len(p))):
        parts = phrase.split()
        n = len(parts)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == parts and not any(used[i : i + n]):
                used[i : i + n] = [True] * n
                meanings.add(phrases[phrase])
    rest = [w for w, u in zip(words, used, strict=True) if not u]
    return meanings, rest
