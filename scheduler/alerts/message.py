"""The message an officer reads about a feedback's alerts: one message for all of them.

It names the reasons (the rules' short labels), the station, time, reference number,
answers and comment; never the citizen. It is plain text (no parse mode), so nothing a
citizen typed can break it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from conversations.effects import Attached, Choice, Msg, Reply
from conversations.messages import N_
from conversations.survey import Survey
from scheduler.alerts.acknowledge import ALERT_QUESTION, ack_option
from scheduler.officer_lines import REASONS, REFERENCE, WHERE
from scheduler.visit_time import when
from storage.models import Alert, Feedback, Station
from storage.models import Answer as StoredAnswer

RED = N_("🔴 Red alert: someone asked for money or a favour")
NEGATIVE = N_("⚠️ Negative feedback")
ESCALATED = N_("⏫ Not acknowledged in time: passed to the SP office")
REOPENED = N_("🔁 Reopened: the citizen updated this feedback, still unhappy")
WHEN = N_("Time: {time}")
ANSWER = N_("{question} — {answer}")
COMMENT = N_("Comment: {comment}")
VOICE = N_("The citizen sent a voice note.")
ACKNOWLEDGE = N_("Acknowledge")
SKIPPED = N_("(skipped)")


def marker(severity: str, status: str) -> str:
    """The sign an open alert is listed with, in the digests and the officers' list."""
    return "🔴" if severity == "red" else ("⏫" if status == "escalated" else "⚠️")


def alert_reply(alerts: Sequence[Alert], reasons: Sequence[str], feedback: Feedback,
                station: Station, answers: list[StoredAnswer], survey: Survey, lang: str,
                zone: ZoneInfo, escalated: bool = False, reopened: bool = False,
                steps: Sequence[Choice] = (), exact_time: bool = True) -> Reply:
    """`alerts`: this feedback's, the ones for this officer; `reasons`: their labels;
    `steps`: what the officer may do on its case (scheduler/cases/message.py);
    `exact_time`: the minute, or else the part of the day (scheduler/visit_time.py)."""
    red = any(alert.severity == "red" for alert in alerts)
    title = ESCALATED if escalated else (RED if red else NEGATIVE)
    lines = [Msg(title), *([Msg(REOPENED)] if reopened and not escalated else []),
             Msg.of(REASONS, reasons=", ".join(reasons)),
             Msg.of(WHERE, station=station.name_hi if lang == "hi" else station.name_en),
             Msg.of(WHEN, time=when(feedback.completed_at, zone, exact_time)
                    if feedback.completed_at else ""),
             Msg.of(REFERENCE, reference=feedback.reference)]
    by_question = {a.question_id: a for a in answers}
    attached: list[Attached] = []
    for question in survey.questions:
        answer = by_question.get(question.id)
        if answer is None or question.id in ("contact", "followup"):
            continue
        if question.type == "text":
            if answer.text:
                lines.append(Msg.of(COMMENT, comment=answer.text))
            elif answer.voice_ref:
                lines.append(Msg(VOICE))
                attached.append(Attached("voice", answer.voice_ref,
                                         f"{feedback.reference}-voice.ogg", citizen=True))
            continue
        option = question.option(answer.option_id or "")
        label: Msg = Msg(option.label) if option else Msg(SKIPPED)
        lines.append(Msg.of(ANSWER, question=question.prompt, answer=label))
    # One button: acknowledging one of a feedback's alerts acknowledges the officer's others.
    waiting = [alert for alert in alerts if alert.status != "acknowledged"]
    choices = [Choice(ack_option(waiting[0].id), 1, Msg(ACKNOWLEDGE))] if waiting else []
    choices += [replace(step, number=n) for n, step in enumerate(steps, start=len(choices) + 1)]
    return Reply(lang, tuple(lines), tuple(choices), ALERT_QUESTION,
                 attached=tuple(attached))
