"""Which alert rules a completed feedback matches, and the message an officer reads.

The message names the station, time, reference number, answers and comment; never the
citizen. It is plain text (no parse mode), so nothing a citizen typed can break it.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from conversations.effects import Choice, Msg, Reply
from conversations.messages import N_
from conversations.session import Answer
from conversations.survey import Survey
from scheduler.alerts.acknowledge import ALERT_QUESTION, ack_option
from scheduler.config import AlertRule, Config, ConfigError
from storage.models import Alert, Feedback, Station
from storage.models import Answer as StoredAnswer

RED = N_("🔴 Red alert: someone asked for money or a favour")
NEGATIVE = N_("⚠️ Negative feedback")
ESCALATED = N_("⏫ Not acknowledged in time: passed to the SP office")
REOPENED = N_("🔁 Reopened: the citizen updated this feedback, still unhappy")
WHERE = N_("Station: {station}")
WHEN = N_("Time: {time}")
REFERENCE = N_("Feedback number: {reference}")
ANSWER = N_("{question} — {answer}")
COMMENT = N_("Comment: {comment}")
VOICE = N_("The citizen sent a voice note.")
ACKNOWLEDGE = N_("Acknowledge")
SKIPPED = N_("(skipped)")


def marker(severity: str, status: str) -> str:
    """The sign an open alert is listed with, in the digests and the officers' list."""
    return "🔴" if severity == "red" else ("⏫" if status == "escalated" else "⚠️")


def check_rules(config: Config, survey: Survey) -> None:
    """Alert rules must name real questions and options; fail at start, not at 2 a.m."""
    for n, rule in enumerate(config.alerts.rules):
        if rule.severity == "red" and list(rule.notify) != ["sp_office"]:
            # A red feedback is kept from its station (it may be the subject): a red rule
            # naming the in-charge would reach nobody until escalation.
            raise ConfigError(f"alerts.rules[{n}].notify: a red rule goes to the SP office "
                              "alone; write `notify: [sp_office]`")
        for m, condition in enumerate(rule.any):
            where = f"alerts.rules[{n}].any[{m}]"
            question = survey.question(condition.question)
            if question is None:
                raise ConfigError(f"{where}.question: no question {condition.question!r} in "
                                  "the survey")
            known = {o.id for o in question.options}
            if condition.in_ and (bad := [o for o in condition.in_ if o not in known]):
                raise ConfigError(f"{where}.in: {bad[0]!r} is not an option of "
                                  f"{condition.question!r}; options: {sorted(known)}")


def matching(rules: list[AlertRule], answers: Mapping[str, Answer]) -> list[AlertRule]:
    """The rules a feedback raises alerts for. When a red rule matches (money or a favour
    demanded), only the red rules: the station may be the subject, and its other rules'
    alerts would show the in-charge the same answers and comment."""
    def holds(question: str, in_: list[str] | None, at_most: int | None) -> bool:
        answer = answers.get(question)
        if answer is None or answer.option is None:
            return False
        if in_ is not None:
            return answer.option in in_
        return answer.option.isdigit() and int(answer.option) <= (at_most or 0)

    matched = [rule for rule in rules
               if any(holds(c.question, c.in_, c.at_most) for c in rule.any)]
    red = [rule for rule in matched if rule.severity == "red"]
    return red or matched


def alert_reply(alert: Alert, feedback: Feedback, station: Station,
                answers: list[StoredAnswer], survey: Survey, lang: str, zone: ZoneInfo,
                escalated: bool = False, reopened: bool = False) -> Reply:
    title = ESCALATED if escalated else (RED if alert.severity == "red" else NEGATIVE)
    lines = [Msg(title), *([Msg(REOPENED)] if reopened and not escalated else []),
             Msg.of(WHERE, station=station.name_hi if lang == "hi" else station.name_en),
             Msg.of(WHEN, time=feedback.completed_at.astimezone(zone).strftime("%d-%m-%Y %H:%M")
                    if feedback.completed_at else ""),
             Msg.of(REFERENCE, reference=feedback.reference)]
    by_question = {a.question_id: a for a in answers}
    for question in survey.questions:
        answer = by_question.get(question.id)
        if answer is None or question.id in ("contact", "followup"):
            continue
        if question.type == "text":
            if answer.text:
                lines.append(Msg.of(COMMENT, comment=answer.text))
            elif answer.voice_ref:
                lines.append(Msg(VOICE))
            continue
        option = question.option(answer.option_id or "")
        label: Msg = Msg(option.label) if option else Msg(SKIPPED)
        lines.append(Msg.of(ANSWER, question=question.prompt, answer=label))
    choices = () if alert.status == "acknowledged" else (
        Choice(ack_option(alert.id), 1, Msg(ACKNOWLEDGE)),)
    return Reply(lang, tuple(lines), choices, ALERT_QUESTION)
