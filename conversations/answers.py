"""Reading an answer out of what a citizen sent: digits, words, emoji, commands."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from conversations.survey import Option, Question
from conversations.text import emoji_only, match_phrases, normalize, star_count, whole_number

Command = Literal["restart", "back", "help", "stop", "skip", "lang:hi", "lang:en"]

# Whole-message commands, any language, any time.
COMMANDS: dict[str, Command] = {
    **dict.fromkeys(
        ["restart", "start again", "start over", "फिर से", "फिरसे", "phir se", "fir se", "firse",
         "phirse", "dobara", "दोबारा", "शुरू से", "shuru se", "restart karo"], "restart"),
    **dict.fromkeys(["back", "पीछे", "peeche", "piche", "pichhe", "previous", "पिछला",
                     "pichla", "go back", "वापस", "wapas", "vapas"], "back"),
    **dict.fromkeys(["help", "मदद", "madad", "सहायता", "sahayata", "sahayta", "helpline"],
                    "help"),
    **dict.fromkeys(["stop", "बंद", "band", "बंद करो", "band karo", "cancel", "रद्द", "radd",
                     "quit", "exit", "रोको", "roko"], "stop"),
    **dict.fromkeys(["skip", "छोड़ें", "छोड़े", "छोड़ो", "छोड़िए", "chhodo", "chodo", "chhode",
                     "chhoden", "aage", "आगे", "next", "pass"], "skip"),
    **dict.fromkeys(["english", "इंग्लिश", "अंग्रेजी", "अंग्रेज़ी", "angrezi", "angreji"],
                    "lang:en"),
    **dict.fromkeys(["hindi", "हिंदी", "हिन्दी"], "lang:hi"),
}
_COMMANDS = {normalize(k): v for k, v in COMMANDS.items()}
_COMMANDS.update({normalize("/" + k): v for k, v in COMMANDS.items() if k.isascii()})

YES = ["हाँ", "हां", "हा", "हाँ जी", "जी हाँ", "जी", "haan", "han", "haa", "ha", "haan ji", "ji",
       "ji haan", "yes", "y", "yeah", "yep", "yup", "sure", "👍", "✅", "✔", "मिली", "mili",
       "mila", "मिला", "bilkul", "बिल्कुल", "zaroor", "jarur", "jaroor", "ज़रूर", "जरूर"]
# Where a wrong "yes" has consequences (an improper demand goes to the SP office as a red
# alert), only these count: no emoji, no bare "ji".
YES_STRICT = ["हाँ", "हां", "हा", "haan", "han", "haa", "ha", "yes", "हाँ जी", "haan ji"]
NO = ["नहीं", "नही", "ना", "नहीं जी", "जी नहीं", "ji nahi", "ji nahin", "nahi ji", "nahi", "nahin",
      "nhi", "nai", "na", "no", "n", "nope", "👎", "❌", "नहीं मिली", "nahi mili", "nahin mili",
      "नहीं मिला", "nahi mila", "nahin mila"]
# Whatever the scale's labels say, these words carry the same meaning.
SCALE_WORDS: dict[int, list[str]] = {
    1: ["बहुत खराब", "bahut kharab", "bahut kharaab", "bahut bura", "बहुत बुरा", "very bad",
        "worst", "terrible", "बेकार", "bekar", "bekaar", "😡", "😠", "🤬", "😤"],
    2: ["खराब", "kharab", "kharaab", "bura", "बुरा", "bad", "poor", "🙁", "😞", "☹", "😟",
        "😒", "👎", "असंतुष्ट", "asantusht", "dissatisfied"],
    3: ["ठीक", "ठीक ठाक", "theek", "thik", "theek thaak", "thik thak", "ok", "okay", "average",
        "सामान्य", "samanya", "चलेगा", "so so", "😐", "😶", "😑"],
    4: ["अच्छा", "accha", "acha", "achha", "achchha", "good", "nice", "🙂", "😀", "👍", "☺",
        "संतुष्ट", "santusht", "satisfied"],
    5: ["बहुत अच्छा", "bahut accha", "bahut acha", "bahut achha", "very good", "excellent",
        "बढ़िया", "badhiya", "badiya", "बहुत बढ़िया", "शानदार", "shandar", "best", "great",
        "😊", "😃", "😄", "😍", "🥰", "🤩", "👌", "❤", "बहुत संतुष्ट", "bahut santusht"],
}
NEGATIONS = {normalize(w) for w in ["नहीं", "नही", "ना", "मत", "nahi", "nahin", "nhi", "not",
                                    "no", "na", "never", "dont", "didnt"]}
# "pata nahi" is "I don't know", not "no".
UNSURE = {normalize(w) for w in ["पता", "pata", "pta", "मालूम", "maloom", "malum", "शायद",
                                 "shayad", "know", "sure", "idea", "याद", "yaad", "yad",
                                 "remember"]}
SKIP_TEXT = {normalize(w) for w in ["कुछ नहीं", "kuch nahi", "kuchh nahi", "nothing", "none",
                                    "नहीं", "no", "nahi", "-", "na", "nil", "कुछ नही"]}


def command(text: str) -> Command | None:
    """A whole-message command, or None."""
    if text.strip() == "?":
        return "help"
    return _COMMANDS.get(normalize(text))


def _phrases(question: Question) -> Mapping[str, str]:
    return _phrases_of(question.options, question.strict)


@functools.cache  # a survey's few questions, each matched on every answer to it
def _phrases_of(options: tuple[Option, ...], strict: bool) -> Mapping[str, str]:
    phrases: dict[str, str] = {}
    for option in options:
        words = set(option.words) | {normalize(option.label)}
        if option.id == "yes":
            words |= {normalize(w) for w in (YES_STRICT if strict else YES)}
        elif option.id == "no":
            words |= {normalize(w) for w in NO}
        if option.value is not None:
            words |= {normalize(w) for w in SCALE_WORDS[option.value]}
        for word in words:
            if word:
                phrases.setdefault(word, option.id)
    return MappingProxyType(phrases)


def _by_number(question: Question, n: int) -> Option | None:
    if 1 <= n <= len(question.options):
        return question.options[n - 1]
    return None


def _by_emoji(question: Question, text: str) -> Option | None:
    if question.strict:
        return None
    found = emoji_only(text)
    if not found:
        return None
    meanings = {_phrases(question).get(normalize(e)) for e in found}
    if len(meanings) == 1 and None not in meanings:
        return question.option(meanings.pop())  # type: ignore[arg-type]
    return None


def choose_option(question: Question, text: str) -> Option | None:
    """The option a message means, or None when it is unclear."""
    if (n := whole_number(text)) is not None:
        return _by_number(question, n)
    if question.type == "scale" and (stars := star_count(text)) is not None:
        return _by_number(question, stars)
    if (option := _by_emoji(question, text)) is not None:
        return option
    phrases = _phrases(question)
    norm = normalize(text)
    if norm in phrases:
        return question.option(phrases[norm])
    meanings, rest = match_phrases(text, phrases)
    if len(meanings) != 1:
        return None
    # "अच्छा नहीं था" must not read as "good", nor "2 haan" as yes: a stray negation,
    # doubt or number makes the message unclear.
    if any(word in NEGATIONS or word in UNSURE or word.isdigit() for word in rest):
        return None
    return question.option(meanings.pop())


def is_skip_text(text: str) -> bool:
    return normalize(text) in SKIP_TEXT
