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


_G = "[0-9०-९]{2,}"  # a group of digits, either script
# Digit groups joined by one or two spaces, dots or hyphens, or bracketed: how people
# write a phone number (98765 43210, 98 76 54 32 10, (0771) 2345678, +91-98765-43210).
_DIGIT_RUN = re.compile(rf"(?<![0-9०-९])\(?\+?{_G}(?:(?:[\s.-]{{1,2}}|\)[\s.-]?)\(?{_G})*"
                        r"\)?(?![0-9०-९])")
HIDDEN = "[…]"


def _says_who(digits: str, groups: int) -> bool:
    """A mobile (10 digits from 6-9, or with 0 or 91 before), a landline with its STD
    code (11 digits from 0), or an Aadhaar (12, from 2-9). Longer runs are case or
    complaint ids; dates, times and amounts are shorter or not joined like this."""
    size = len(digits)
    return ((size == 10 and digits[0] in "6789")
            or (size == 11 and digits[0] == "0")
            or (size == 12 and (digits.startswith("91") or groups == 3
                                or digits[0] in "23456789")))


def hide_numbers(text: str) -> str:
    """A comment is shown to the station and exported: a phone or Aadhaar number the
    citizen typed into it would say who they are."""
    def hide(found: re.Match[str]) -> str:
        run = found.group().translate(_DEVANAGARI_DIGITS)
        digits = "".join(ch for ch in run if ch.isdigit())
        groups = len(re.findall(r"\d+", run))
        return HIDDEN if _says_who(digits, groups) else found.group()

    return _DIGIT_RUN.sub(hide, text)


# Words spelt two ways as often as one: matched as the one.
_SPELLINGS = {"नही": "नहीं", "nahin": "nahi", "nhi": "nahi"}


def normalize(text: str) -> str:
    """A canonical form for matching: folded case, ASCII digits, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_DEVANAGARI_DIGITS).translate(_FOLD)
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_SPELLINGS.get(word, word) for word in _PUNCT.sub(" ", text).split())


# "500 रुपये", "₹500", "rs 500", "500rs": an amount, which stands for the word रुपये.
_MONEY = r"(?:रुपये|रुपए|रुपया|रूपये|रु|rupaye|rupay|rupees|rupee|rs)"
_AMOUNT = re.compile(rf"(?:₹\s*\d+(?:\s*{_MONEY})?|\d+\s*{_MONEY}|{_MONEY}\s*\d+)(?!\w)")


def amounts_as_word(norm: str) -> str:
    """A normalised text with each amount of money written as the word रुपये."""
    return _AMOUNT.sub("रुपये", norm)


_DURATION = re.compile(r"(\d{1,3})\s*(मिनट|मिनिट|मिनिट्स|min|mins|minute|minutes|घंटे|घंटा|घण्टे|"
                       r"घण्टा|ghante|ghanta|hour|hours|hr|hrs)(?:\s+(?:में|me|mein|lage|लगे|बाद|baad))?")


def duration_minutes(text: str) -> int | None:
    """'10 मिनट' -> 10, '2 घंटे' -> 120, '1 hour' -> 60; None for anything else."""
    found = _DURATION.fullmatch(normalize(text))
    if found is None:
        return None
    n = int(found.group(1))
    return n if found.group(2).startswith(("मिन", "min")) else 60 * n


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
