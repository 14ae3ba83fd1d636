"""Reading an answer out of what a citizen sent: digits, words, emoji, commands."""

from __future__ import annotations

from typing import Literal

from conversations.survey import Option, Question
from conversations.text import (
    amounts_as_word,
    duration_minutes,
    emoji_only,
    match_phrases,
    normalize,
    star_count,
    whole_number,
)

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


def _by_number(question: Question, n: int) -> Option | None:
    if 1 <= n <= len(question.options):
        return question.options[n - 1]
    return None


def _by_minutes(question: Question, minutes: int) -> Option | None:
    for option in question.options:
        if option.minutes is not None:
            low, high = option.minutes
            if low <= minutes and (high is None or minutes <= high):
                return option
    return None


def out_of_range(question: Question, text: str) -> bool:
    """A number that is no answer's: '7' when there are four."""
    n = whole_number(text)
    return n is not None and _by_number(question, n) is None


def _by_emoji(question: Question, text: str) -> Option | None:
    if question.strict:
        return None
    found = emoji_only(text)
    if not found:
        return None
    meanings = {question.phrases.get(normalize(e)) for e in found}
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
    if question.timed and (minutes := duration_minutes(text)) is not None and (
            option := _by_minutes(question, minutes)) is not None:
        return option
    phrases = question.phrases
    norm = amounts_as_word(normalize(text))
    if norm in phrases:
        return question.option(phrases[norm])
    meanings, rest = match_phrases(norm, phrases)
    if len(meanings) != 1:
        return None
    # "अच्छा नहीं था" must not read as "good", nor "2 haan" as yes: a stray negation,
    # doubt or number makes the message unclear.
    if any(word in NEGATIONS or word in UNSURE or word.isdigit() for word in rest):
        return None
    return question.option(meanings.pop())


def is_skip_text(text: str) -> bool:
    return normalize(text) in SKIP_TEXT
