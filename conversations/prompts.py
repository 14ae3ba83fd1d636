"""Building the replies the engine sends: a question with its choices, the station picker."""

from __future__ import annotations

from collections.abc import Mapping

from conversations import messages as M
from conversations.effects import Choice, Msg, Reply
from conversations.session import Answer, Session
from conversations.survey import Option, Question, StationRef, Survey

STATION_QUESTION = "_station"
SWITCH_QUESTION = "_switch"
CONFIRM_QUESTION = "_confirm"
PICKER_LIST_MAX = 25  # above this a numbered list is too long for a phone screen


def applies(question: Question, answers: Mapping[str, Answer]) -> bool:
    return not question.when or all(
        (a := answers.get(other)) is not None and a.option in wanted
        for other, wanted in question.when.items()
    )


def next_question(survey: Survey, answers: Mapping[str, Answer]) -> Question | None:
    """The first question that applies and is not answered yet."""
    for question in survey.questions:
        if question.id not in answers and (not question.when or applies(question, answers)):
            return question
    return None


def prune(survey: Survey, answers: dict[str, Answer]) -> dict[str, Answer]:
    """Drop answers to questions that no longer apply (after 'back' changed an answer)."""
    kept: dict[str, Answer] = {}
    for question in survey.questions:
        if question.id in answers and (not question.when or applies(question, kept)):
            kept[question.id] = answers[question.id]
    return kept


def _progress(survey: Survey, question: Question,
              answers: Mapping[str, Answer]) -> tuple[int, int | None]:
    """(n, total): where `question` stands among the questions this citizen is asked.
    The total is None while an answer still to come decides whether a question is asked:
    it is shown only once it can no longer change under the citizen."""
    n = total = 0
    undecided = False
    for q in survey.questions:  # most have no condition: counted without a call
        if not q.when or _undecided_or_met(q, answers):
            total += 1
            undecided = undecided or (bool(q.when) and any(o not in answers for o in q.when))
            if q.id == question.id:
                n = total
    return n, None if undecided else total


def _undecided_or_met(question: Question, answers: Mapping[str, Answer]) -> bool:
    # A question whose condition is not yet decided counts: the total may shrink, never grow.
    return all(other not in answers or answers[other].option in wanted
               for other, wanted in question.when.items())


def ask(session: Session, survey: Survey, *before: Msg) -> Reply:
    """The current question, after any notes in `before`."""
    question = survey.question(session.question or "")
    assert question is not None, "ask() is only called for a question the survey has"
    n, total = _progress(survey, question, session.answers)
    if total == 1:  # a question asked alone (the closure's): no count to keep
        line = question.prompt
    elif total is not None:
        line = Msg.of(M.PROGRESS, n=str(n), total=str(total), ask=question.prompt)
    else:
        line = Msg.of(M.PROGRESS_OPEN, n=str(n), ask=question.prompt)
    return Reply(session.lang, (*before, line), question.choices, question.id)


def confirm_prompt(session: Session, option: Option, *before: Msg) -> Reply:
    """An answer asked back: "no, by mistake" is 1, so the 1 that gave it cannot confirm."""
    return Reply(session.lang, (*before, Msg(option.confirm)),
                 (Choice("no", 1, Msg(M.CONFIRM_NO)), Choice("yes", 2, Msg(M.CONFIRM_YES))),
                 CONFIRM_QUESTION)


def station_name(survey: Survey, code: str | None, lang: str) -> str:
    station = survey.station(code) if code else None
    if station is None:
        return code or ""
    if lang == "hi":
        return station.name_hi
    return f"{station.name_en} ({station.name_hi})"


def picker(session: Session, survey: Survey, listed: tuple[StationRef, ...] | None,
           *before: Msg) -> tuple[Session, Reply]:
    """Ask which station; list `listed`, or every station when there are few."""
    if listed is None:
        listed = survey.stations if len(survey.stations) <= PICKER_LIST_MAX else ()
    prompt: str | None = M.PICK_STATION if listed else M.PICK_STATION_TYPE
    if listed and before and before[-1].id in _ASKS_FOR_A_NUMBER:
        prompt = None
    station_choices = tuple(
        Choice(s.code, n, Msg(s.name(session.lang))) for n, s in enumerate(listed, start=1)
    )
    lines = (*before, Msg(prompt)) if prompt else before
    new = Session(lang=session.lang, stage="pick_station",
                  candidates=tuple(s.code for s in listed), last_seen=session.last_seen)
    return new, Reply(session.lang, lines, station_choices, STATION_QUESTION)


_ASKS_FOR_A_NUMBER = {M.MANY_STATIONS, M.THANAS, M.CHOWKIS, M.OUT_OF_LIST}


def switch_prompt(session: Session, survey: Survey, *before: Msg) -> Reply:
    """A QR code scanned mid-feedback: start over (for that station) or continue?"""
    current = station_name(survey, session.station, session.lang)
    new = station_name(survey, session.pending_station, session.lang)
    if session.pending_station == session.station:
        question, start_label = Msg(M.SAME_STATION_ASK), Msg(M.START_AGAIN)
    else:
        question, start_label = Msg.of(M.SWITCH_ASK, current=current, new=new), Msg(M.SWITCH_NEW)
    return Reply(
        session.lang, (*before, question),
        (Choice("new", 1, start_label), Choice("continue", 2, Msg(M.SWITCH_CONTINUE))),
        SWITCH_QUESTION,
    )
