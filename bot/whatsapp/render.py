"""Replies as WhatsApp messages: text with a short numbered list, or quick-reply buttons.

A question gets buttons only where the district configured a Content API template for
it (its body is the variable {{1}}, its buttons' ids "question:option"); otherwise
options are numbered and the citizen types the number, which every phone can do.
Officers' menus have no numbers: a number would be read as a citizen's answer, so
each option names the word to send instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from conversations.effects import Choice, Reply
from conversations.messages import N_
from conversations.text import normalize
from scheduler.alerts.acknowledge import ALERT_QUESTION, alert_of
from scheduler.cases.chat import read_option
from scheduler.cases.message import CASE_QUESTION, case_option
from scheduler.catalogs import Catalogs
from scheduler.officers.desk import OFFICER_QUESTION
from scheduler.outbox.message import split

MAX_BODY = 1600  # Twilio's limit for one WhatsApp message body
MAX_VARIABLE = 1024  # a Content template variable

WORDS = {"menu": N_("menu"), "today": N_("today"), "alerts": N_("alerts"),
         "cases": N_("cases"), "comments": N_("comments"), "language": N_("language"),
         "send": N_("send"), "cancel": N_("cancel")}
ACK_WORD = N_("ack")
# A case's steps: the word and the case's number ("report 12").
CASE_WORDS = {"instruct": N_("instruct"), "report": N_("report"), "close": N_("close"),
              "return": N_("return")}
SEND_WORD = N_("{label}: send “{word}”")


@dataclass(frozen=True)
class Outgoing:
    """One WhatsApp message: free text, or a Content template with its variables."""

    body: str = ""
    content_sid: str | None = None
    variables: Mapping[str, str] | None = None
    fallback: str = ""  # the numbered text, should Twilio refuse the template


class Renderer:
    def __init__(self, catalogs: Catalogs, quick_replies: Mapping[str, Mapping[str, str]]):
        self.catalogs, self.quick_replies = catalogs, quick_replies
        self._commands = {normalize(t): name for name, msgid in WORDS.items()
                          for t in [*catalogs.translations_of(msgid), msgid]}
        self._ack = self._numbered(ACK_WORD)
        self._steps = {verb: self._numbered(msgid) for verb, msgid in CASE_WORDS.items()}

    def _numbered(self, msgid: str) -> re.Pattern[str]:
        """The word in every language, then a number: "ack 12", "रिपोर्ट 12"."""
        words = "|".join(re.escape(normalize(t))
                         for t in {*self.catalogs.translations_of(msgid), msgid})
        return re.compile(rf"^(?:{words})\s*([0-9]{{1,9}})$")

    def render(self, reply: Reply) -> list[Outgoing]:
        return list(self._render(reply))

    def _render(self, reply: Reply) -> tuple[Outgoing, ...]:
        sid = self.quick_replies.get(reply.question or "", {}).get(reply.lang)
        if sid and reply.choices:
            text = self.catalogs.render(reply, numbered=False)
            head, last = self._cut(text, MAX_VARIABLE)
            numbered = split(self.catalogs.render(reply, numbered=True), MAX_BODY)[-1]
            return (*head, Outgoing(content_sid=sid, variables={"1": last}, fallback=numbered))
        if reply.question in (OFFICER_QUESTION, ALERT_QUESTION, CASE_QUESTION):
            text = self._with_words(reply)
        else:
            text = self.catalogs.render(reply, numbered=True)
        return tuple(Outgoing(body=part) for part in split(text, MAX_BODY))

    def _cut(self, text: str, limit: int) -> tuple[list[Outgoing], str]:
        parts = split(text, limit)
        return [Outgoing(body=p) for p in parts[:-1]], parts[-1]

    def _with_words(self, reply: Reply) -> str:
        lines = [self.catalogs.text(reply.lang, line) for line in reply.lines]
        lines += [self._word_line(reply.lang, choice) for choice in reply.choices]
        return "\n".join(lines)

    def _word_line(self, lang: str, choice: Choice) -> str:
        if (alert_id := alert_of(choice.id)) is not None:
            word = f"{self.catalogs.text(lang, ACK_WORD)} {alert_id}"
        elif (step := read_option(choice.id)) is not None:
            verb, case_id, _ = step
            if verb in CASE_WORDS:
                word = f"{self.catalogs.text(lang, CASE_WORDS[verb])} {case_id}"
            elif verb == "preset":  # asked while the instruction waits: its number
                word = str(choice.number)
            else:
                word = self.catalogs.text(lang, WORDS[verb])
        else:
            word = self.catalogs.text(lang, WORDS.get(choice.id, WORDS["menu"]))
        label = self.catalogs.text(lang, choice.label)
        return self.catalogs.text(lang, SEND_WORD).format(label=label, word=word)

    def officer_command(self, text: str) -> tuple[str, int | None, str] | None:
        """An officer's word: ("today", None, ""), ("ack", 12, ""), ("case", None,
        "report-12") ...; None for anything else."""
        typed = normalize(text)
        if typed in self._commands:
            return self._commands[typed], None, ""
        if found := self._ack.match(typed):
            return "ack", int(found.group(1)), ""
        for verb, pattern in self._steps.items():
            if found := pattern.match(typed):
                return "case", None, case_option(verb, int(found.group(1)))
        return None
