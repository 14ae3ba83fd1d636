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
from scheduler.catalogs import Catalogs
from scheduler.officers.desk import OFFICER_QUESTION
from scheduler.outbox.message import split

MAX_BODY = 1600  # Twilio's limit for one WhatsApp message body
MAX_VARIABLE = 1024  # a Content template variable

WORDS = {"menu": N_("menu"), "today": N_("today"), "alerts": N_("alerts"),
         "comments": N_("comments"), "language": N_("language")}
ACK_WORD = N_("ack")
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
        acks = "|".join(re.escape(normalize(t))
                        for t in {*catalogs.translations_of(ACK_WORD), ACK_WORD})
        self._ack = re.compile(rf"^(?:{acks})\s*([0-9]{{1,9}})$")

    def render(self, reply: Reply) -> list[Outgoing]:
        return list(self._render(reply))

    def _render(self, reply: Reply) -> tuple[Outgoing, ...]:
        sid = self.quick_replies.get(reply.question or "", {}).get(reply.lang)
        if sid and reply.choices:
            text = self.catalogs.render(reply, numbered=False)
            head, last = self._cut(text, MAX_VARIABLE)
            numbered = split(self.catalogs.render(reply, numbered=True), MAX_BODY)[-1]
            return (*head, Outgoing(content_sid=sid, variables={"1": last}, fallback=numbered))
        if reply.question in (OFFICER_QUESTION, ALERT_QUESTION):
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
        else:
            word = self.catalogs.text(lang, WORDS.get(choice.id, WORDS["menu"]))
        label = self.catalogs.text(lang, choice.label)
        return self.catalogs.text(lang, SEND_WORD).format(label=label, word=word)

    def officer_command(self, text: str) -> tuple[str, int | None] | None:
        """An officer's word: ("today", None), ("ack", 12) ...; None for anything else."""
        typed = normalize(text)
        if typed in self._commands:
            return self._commands[typed], None
        if found := self._ack.match(typed):
            return "ack", int(found.group(1))
        return None
