"""The dialogue as a pure function: (session, event, now, survey) -> (session, effects).

No I/O, no clock, no global locale: whatever the engine needs comes in as an
argument, so every conversation can be replayed exactly in a test.
"""

from __future__ import annotations

import re
from datetime import datetime

from conversations import messages as M
from conversations.answers import choose_option, command, is_skip_text, out_of_range
from conversations.effects import (
    Closed,
    Completed,
    Effect,
    Event,
    Media,
    Msg,
    Reply,
    Start,
    Tap,
    Text,
    Tick,
)
from conversations.prompts import (
    CONFIRM_QUESTION,
    PICKER_LIST_MAX,
    STATION_QUESTION,
    SWITCH_QUESTION,
    ask,
    confirm_prompt,
    next_question,
    picker,
    prune,
    station_name,
    switch_prompt,
)
from conversations.session import Answer, Session
from conversations.stations import code_in_text, example_name, kind_asked, search
from conversations.survey import SKIP_CHOICE, Option, Question, StationRef, Survey
from conversations.text import clean, hide_numbers, normalize, whole_number

Result = tuple[Session, list[Effect]]
_LIVE = ("pick_station", "confirm_switch", "asking")


def new_session(lang: str) -> Session:
    return Session(lang=lang)


def step(session: Session, event: Event, now: datetime, survey: Survey) -> Result:
    """Advance one conversation by one event."""
    effects: list[Effect] = []
    if _idle(session, now, survey):
        effects.append(Closed("expired"))
        session = session.evolve(stage="ended", outcome="expired", question=None)
    if isinstance(event, Tick):
        return session, effects
    # The handlers see when the citizen last wrote; the session leaves with `now`.
    if session.follow_up is not None and session.stage == "asking":
        session, more = _on_follow_up(session, event, survey)
    elif session.stage == "ended":
        session, more = _on_ended(session, event, now, survey)
    else:
        handler = {
            "new": _on_new,
            "pick_station": _on_picker,
            "confirm_switch": _on_switch,
            "asking": _on_question,
        }[session.stage]
        session, more = handler(session, event, survey)
    return session.evolve(last_seen=now), effects + more


def resume(session: Session, survey: Survey) -> list[Reply]:
    """What the citizen should be looking at now: sent again after a redelivered message."""
    if session.follow_up is not None:
        survey = _asked_later(session, survey)
    if session.stage == "asking":
        question = _current(session, survey)
        if question is None:
            return []
        if session.confirming and (option := question.option(session.confirming)):
            return [confirm_prompt(session, option)]
        # Nothing answered yet: the greeting (and its privacy promise) may never have
        # reached the citizen, so it comes again.
        greeting = () if session.answers or session.follow_up else _greeting(session, survey)
        return [ask(session, survey, *greeting)]
    if session.stage == "confirm_switch":
        return [switch_prompt(session, survey)]
    if session.stage == "pick_station":
        return [picker(session, survey, _listed(session, survey))[1]]
    if session.stage == "ended" and session.outcome == "complete" and session.reference:
        return [_say(session, Msg.of(M.ENDED_COMPLETE, reference=session.reference))]
    return []


def thanks(session: Session, reference: str, updated: bool) -> Reply:
    """The last message, once the service has stored the feedback under `reference`."""
    msgid = M.THANKS_UPDATED if updated else M.THANKS
    return Reply(session.lang, (Msg.of(msgid, reference=reference),))


def _idle(session: Session, now: datetime, survey: Survey) -> bool:
    # A follow-up may be read hours later (on WhatsApp, after its template): it waits longer.
    timeout = survey.follow_up_timeout if session.follow_up is not None else survey.idle_timeout
    return (
        session.stage in _LIVE
        and session.last_seen is not None
        and now - session.last_seen >= timeout
    )


def _media_note(event: Media) -> Msg:
    return Msg(M.EDIT_NOT_READ if event.kind == "edited" else M.MEDIA_NOT_READ)


def _say(session: Session, *lines: Msg) -> Reply:
    return Reply(session.lang, lines)


# ---- starting -------------------------------------------------------------------------


def _begin(session: Session, code: str, survey: Survey, *before: Msg) -> Result:
    """A fresh feedback for the station `code`, greeting first."""
    fresh = Session(lang=session.lang, stage="asking", station=code, last_seen=session.last_seen)
    first = next_question(survey, {})
    assert first is not None, "a loaded survey always has a question"
    fresh = fresh.evolve(question=first.id)
    return fresh, [ask(fresh, survey, *before, *_greeting(fresh, survey))]


def _greeting(session: Session, survey: Survey) -> tuple[Msg, ...]:
    name = station_name(survey, session.station, session.lang)
    return Msg.of(M.GREETING, station=name), Msg(M.PRIVACY), Msg(M.HOW_TO)


def _start(session: Session, code: str | None, survey: Survey, lang: str | None = None,
           now: datetime | None = None) -> Result:
    """`now`: given after a completed feedback, whose update this may be."""
    if lang in survey.languages:
        session = session.evolve(lang=lang)
    station = survey.station(code.strip()) if code and code.strip() else None
    if station is not None:
        replaced = _replacing(session, station.code, now) if now is not None else ()
        return _begin(session, station.code, survey, *replaced)
    notes = [Msg(M.WELCOME)]
    if code and code.strip():
        # Echo a code only if it looks like one: never repeat arbitrary link payloads.
        looks_like_code = re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code.strip())
        notes.append(Msg.of(M.UNKNOWN_CODE, code=code.strip()) if looks_like_code
                     else Msg(M.UNKNOWN_LINK))
    new, reply = picker(session, survey, None, *notes)
    return new, [reply]


def _language(session: Session, cmd: str, survey: Survey) -> Session:
    lang = cmd.split(":", 1)[1]
    # A language this deployment has no catalog for is not offered: stay as we are.
    return session.evolve(lang=lang) if lang in survey.languages else session


def _on_new(session: Session, event: Event, survey: Survey) -> Result:
    if isinstance(event, Start):
        return _start(session, event.code, survey, event.lang)
    if isinstance(event, Text):
        cmd = command(event.text)
        if cmd and cmd.startswith("lang:"):
            session = _language(session, cmd, survey)
        elif (station := code_in_text(event.text, survey.stations)) is not None:
            return _begin(session, station.code, survey)
        elif len(found := search(event.text, survey.stations, word_start=True)) == 1:
            return _begin(session, found[0].code, survey)
    return _start(session, None, survey)


# ---- the station picker ---------------------------------------------------------------


def _on_picker(session: Session, event: Event, survey: Survey) -> Result:
    if isinstance(event, Start):
        return _start(session, event.code, survey, event.lang)
    if isinstance(event, Tap):
        if event.question == STATION_QUESTION and survey.station(event.option):
            return _begin(session, survey.station(event.option).code, survey)  # type: ignore[union-attr]
        new, reply = picker(session, survey, _listed(session, survey), Msg(M.STALE_BUTTON))
        return new, [reply]
    if isinstance(event, Media):
        new, reply = picker(session, survey, _listed(session, survey), _media_note(event))
        return new, [reply]
    assert isinstance(event, Text)
    cmd = command(event.text)
    if cmd == "stop":
        return _stop(session)
    if cmd and cmd.startswith("lang:"):
        session = _language(session, cmd, survey)
        new, reply = picker(session, survey, _listed(session, survey), Msg(M.LANGUAGE_SET))
        return new, [reply]
    if cmd == "help":
        new, reply = picker(session, survey, _listed(session, survey), Msg(M.HELP))
        return new, [reply]
    if cmd is not None:  # back, restart, skip: there is nothing before the station
        new, reply = picker(session, survey, None)
        return new, [reply]
    number = whole_number(event.text)
    if number is not None and 1 <= number <= len(session.candidates):
        return _begin(session, session.candidates[number - 1], survey)
    if number is not None and session.candidates and code_in_text(event.text,
                                                                  survey.stations) is None:
        last = str(len(session.candidates))
        new, reply = picker(session, survey, _listed(session, survey),
                            Msg.of(M.OUT_OF_LIST, last=last))
        return new, [reply]
    if (kind := kind_asked(event.text)) is not None:
        of_kind = tuple(s for s in survey.stations if s.kind == kind)[:PICKER_LIST_MAX]
        if of_kind:
            note = Msg(M.THANAS if kind == "thana" else M.CHOWKIS)
            new, reply = picker(session, survey, of_kind, note)
            return new, [reply]
    if (station := code_in_text(event.text, survey.stations)) is not None:
        return _begin(session, station.code, survey)
    found = search(event.text, survey.stations) if number is None else []
    if len(found) == 1:
        return _begin(session, found[0].code, survey)
    if found:
        new, reply = picker(session, survey, tuple(found), Msg(M.MANY_STATIONS))
        return new, [reply]
    note = Msg.of(M.NO_STATION_MATCH, example=example_name(survey.stations, session.lang))
    new, reply = picker(session, survey, None, note)
    return new, [reply]


def _listed(session: Session, survey: Survey) -> tuple[StationRef, ...] | None:
    if not session.candidates:
        return None
    return tuple(s for code in session.candidates if (s := survey.station(code)))


# ---- a re-scan in the middle of a feedback --------------------------------------------


def _on_switch(session: Session, event: Event, survey: Survey) -> Result:
    choice: str | None = None
    if isinstance(event, Tap) and event.question == SWITCH_QUESTION:
        choice = event.option
    elif isinstance(event, Start):
        station = survey.station(event.code or "")
        if station is not None:
            session = session.evolve(pending_station=station.code)
    elif isinstance(event, Text):
        cmd = command(event.text)
        if cmd == "stop":
            return _stop(session)
        if cmd and cmd.startswith("lang:"):
            session = _language(session, cmd, survey)
        if cmd == "help":
            return session, [switch_prompt(session, survey, Msg(M.HELP))]
        choice = _switch_choice(event.text, survey)
    if choice == "new" and session.pending_station:
        effects: list[Effect] = [Closed("switched")] if session.answers else []
        new, more = _begin(session, session.pending_station, survey)
        return new, effects + more
    if choice == "continue":
        back = session.evolve(stage="asking", pending_station=None)
        return back, [ask(back, survey, Msg(M.CONTINUING))]
    return session, [switch_prompt(session, survey)]


def _switch_choice(text: str, survey: Survey) -> str | None:
    return _one_of_two(text, ("new", survey.words.yes | _SWITCH_NEW),
                       ("continue", survey.words.no | _SWITCH_CONTINUE))


def _one_of_two(text: str, one: tuple[str, frozenset[str]],
                two: tuple[str, frozenset[str]]) -> str | None:
    """The reply to a prompt with two answers: its number, or one of the answer's words."""
    number = whole_number(text)
    if number in (1, 2):
        return one[0] if number == 1 else two[0]
    norm = normalize(text)
    return next((meaning for meaning, words in (one, two) if norm in words), None)


_SWITCH_NEW = frozenset(normalize(w) for w in ["new", "naya", "नया"])
_SWITCH_CONTINUE = frozenset(normalize(w) for w in ["continue", "jari", "जारी", "aage", "आगे"])


# ---- asking the questions -------------------------------------------------------------


def _current(session: Session, survey: Survey) -> Question | None:
    """The question being asked, if the survey and config still have it and its station."""
    if session.question is None or survey.station(session.station or "") is None:
        return None
    return survey.question(session.question)


def _on_question(session: Session, event: Event, survey: Survey) -> Result:
    question = _current(session, survey)
    if question is None:
        # The survey file or the station list changed under this conversation.
        if survey.station(session.station or "") is None:
            new, reply = picker(session, survey, None, Msg(M.RESTARTED))
            return new, [Closed("switched"), reply]
        return _carry_on(session, survey)
    if isinstance(event, Start):
        if not (event.code or "").strip():
            return session, [*resume(session, survey)]  # a bare /start: show where we are
        return _rescan(session, event.code, survey)
    if session.confirming is not None:
        return _on_confirm(session, question, event, survey)
    if isinstance(event, Tap):
        if event.question != question.id:
            return session, [ask(session, survey, Msg(M.STALE_BUTTON))]
        if event.option == SKIP_CHOICE and question.type == "text" and not question.required:
            return _accept(session, question, Answer(skipped=True), survey)
        if (tapped := question.option(event.option)) is None:
            return session, [ask(session, survey, Msg(M.STALE_BUTTON))]
        return _chosen(session, question, tapped, survey)
    if isinstance(event, Media):
        voice = event.kind in ("voice", "audio")
        if question.type == "text" and voice:
            return _accept(session, question, Answer(voice=event.ref or event.kind), survey,
                           Msg(M.VOICE_RECEIVED))
        if event.kind == "edited":  # not a wrong answer: just not something we read
            return session, [ask(session, survey, _media_note(event))]
        return _miss(session, question, survey,
                     Msg(M.VOICE_LATER) if voice else _media_note(event))
    assert isinstance(event, Text)
    cmd = command(event.text)
    if cmd is not None:
        return _command(session, question, cmd, survey)
    if question.type == "text":
        return _comment(session, question, event.text, survey)
    if out_of_range(question, event.text):
        return _miss(session, question, survey,
                     Msg.of(M.OUT_OF_RANGE, last=str(len(question.options))))
    option = choose_option(question, event.text)
    if option is None:
        return _miss(session, question, survey)
    return _chosen(session, question, option, survey)


def _chosen(session: Session, question: Question, option: Option, survey: Survey) -> Result:
    """An option picked: taken, or first asked back when the survey says so."""
    if option.confirm:
        asking = session.evolve(confirming=option.id, misses=0)
        return asking, [confirm_prompt(asking, option)]
    return _accept(session, question, Answer(option=option.id), survey)


def _on_confirm(session: Session, question: Question, event: Event, survey: Survey) -> Result:
    """"You are telling us ... is that right?": yes takes the answer, no asks again."""
    option = question.option(session.confirming or "")
    if option is None:  # the survey file changed meanwhile
        back = session.evolve(confirming=None)
        return back, [ask(back, survey)]
    choice: str | None = None
    note = Msg(M.REASK)
    if isinstance(event, Tap):
        choice = event.option if event.question == CONFIRM_QUESTION else None
        note = Msg(M.STALE_BUTTON)
    elif isinstance(event, Media):
        note = _media_note(event)
    elif isinstance(event, Text):
        cmd = command(event.text)
        if cmd in ("stop", "restart"):
            return _command(session.evolve(confirming=None), question, cmd, survey)
        if cmd == "back":
            back = session.evolve(confirming=None, misses=0)
            return back, [ask(back, survey)]
        if cmd and cmd.startswith("lang:"):
            session, note = _language(session, cmd, survey), Msg(M.LANGUAGE_SET)
        elif cmd == "help":
            note = Msg(M.HELP)
        else:
            choice = _confirm_choice(event.text, survey)
            if choice is None and choose_option(question, event.text) == option:
                choice = "yes"  # said again in words: "500 रुपये मांगे"
    if choice == "yes":
        return _accept(session.evolve(confirming=None), question, Answer(option=option.id),
                       survey)
    if choice == "no":
        back = session.evolve(confirming=None, misses=0)
        return back, [ask(back, survey, Msg(M.CONFIRM_UNDONE))]
    return session, [confirm_prompt(session, option, note)]


def _confirm_choice(text: str, survey: Survey) -> str | None:
    # Answer 1 is "no, by mistake": the yes of the question before was 1.
    return _one_of_two(text, ("no", survey.words.no | _CONFIRM_NO),
                       ("yes", survey.words.yes_strict | _CONFIRM_YES))


_CONFIRM_YES = frozenset(normalize(w) for w in ["सही", "सही है", "हाँ सही है", "sahi",
                                                "sahi hai", "haan sahi hai", "right", "correct",
                                                "yes right"])
_CONFIRM_NO = frozenset(normalize(w) for w in ["गलती", "गलती से", "गलत", "galti", "galti se",
                                               "galat", "mistake", "wrong", "नहीं गलती से"])


def _rescan(session: Session, code: str | None, survey: Survey) -> Result:
    station = survey.station(code.strip()) if code else None
    if station is None:
        return session, [ask(session, survey, Msg(M.UNKNOWN_CODE_MIDWAY))]
    if not session.answers:
        return _begin(session, station.code, survey)
    pending = session.evolve(stage="confirm_switch", pending_station=station.code)
    return pending, [switch_prompt(pending, survey)]


def _command(session: Session, question: Question, cmd: str, survey: Survey) -> Result:
    if cmd == "restart":
        assert session.station is not None
        return _begin(session, session.station, survey, Msg(M.RESTARTED))
    if cmd == "stop":
        return _stop(session)
    if cmd == "help":
        return session.evolve(misses=0), [ask(session, survey, Msg(M.HELP))]
    if cmd.startswith("lang:"):
        session = _language(session, cmd, survey)
        return session, [ask(session, survey, Msg(M.LANGUAGE_SET))]
    if cmd == "skip":
        if question.required:
            return session, [ask(session, survey, Msg(M.CANNOT_SKIP))]
        return _accept(session, question, Answer(skipped=True), survey)
    assert cmd == "back"
    if not session.history:
        return session, [ask(session, survey, Msg(M.BACK_AT_FIRST))]
    previous = session.history[-1]
    answers = {q: a for q, a in session.answers.items() if q != previous}
    back = session.evolve(question=previous, answers=answers, history=session.history[:-1],
                   misses=0)
    return back, [ask(back, survey)]


def _comment(session: Session, question: Question, text: str, survey: Survey) -> Result:
    # "1" is the "nothing to add" choice when the channel shows it as a numbered list.
    if (is_skip_text(text) or whole_number(text) == 1) and not question.required:
        return _accept(session, question, Answer(skipped=True), survey)
    if whole_number(text) is not None:  # a number typed from habit is not a comment
        return _miss(session, question, survey, Msg(M.COMMENT_NOT_A_NUMBER))
    typed = clean(text)
    if not typed:
        return _miss(session, question, survey)
    # The comment reaches the station and the exports: never a number that says who wrote.
    comment = hide_numbers(typed)
    notes: tuple[Msg, ...] = (Msg(M.NUMBER_HIDDEN),) if comment != typed else ()
    if len(comment) > survey.max_comment_chars:
        comment = comment[: survey.max_comment_chars]
        notes += (Msg.of(M.TRUNCATED, limit=str(survey.max_comment_chars)),)
    return _accept(session, question, Answer(text=comment), survey, *notes)


def _miss(session: Session, question: Question, survey: Survey, *note: Msg) -> Result:
    misses = session.misses + 1
    lines = list(note) or [Msg(M.REASK_TEXT if question.type == "text" else M.REASK)]
    if misses >= 3:
        lines.append(Msg(M.HINT_HELP if question.required else M.HINT_SKIP))
    session = session.evolve(misses=misses)
    return session, [ask(session, survey, *lines)]


def _accept(session: Session, question: Question, answer: Answer, survey: Survey,
            *notes: Msg) -> Result:
    answers = prune(survey, {**session.answers, question.id: answer})
    history = (*[q for q in session.history if q in answers and q != question.id], question.id)
    return _go_on(session, answers, history, survey, *notes)


def _go_on(session: Session, answers: dict[str, Answer], history: tuple[str, ...],
           survey: Survey, *notes: Msg) -> Result:
    """With these answers, the next question; or, when none is left, the end."""
    following = next_question(survey, answers)
    session = session.evolve(answers=answers, history=history, misses=0,
                      question=following.id if following else None)
    if following is None:
        done = session.evolve(stage="ended", outcome="complete")
        effects: list[Effect] = [_say(done, *notes)] if notes else []
        effects.append(Completed())
        return done, effects
    return session, [ask(session, survey, *notes)]


def _carry_on(session: Session, survey: Survey) -> Result:
    """The question being asked is no longer in the survey (the file was edited, or the
    channel no longer asks it): keep every answer that still counts and go on with the
    next question, or complete. What the citizen just said answered the missing one."""
    answers = prune(survey, session.answers)
    return _go_on(session, answers, tuple(q for q in session.history if q in answers), survey)


def _stop(session: Session) -> Result:
    stopped = session.evolve(stage="ended", outcome="stopped", question=None, candidates=())
    return stopped, [_say(stopped, Msg(M.STOPPED)), Closed("stopped")]


# ---- the follow-up, days later --------------------------------------------------------


def begin_follow_up(lang: str, feedback_id: int, reference: str, station: str, date: str,
                    now: datetime, survey: Survey, closure: bool = False,
                    ) -> tuple[Session, Reply]:
    """The follow-up of a stored feedback (or, `closure`, the question asked when its
    case closed): its session, and the message that opens it."""
    session = Session(lang=lang, stage="asking", station=station, reference=reference,
                      follow_up=feedback_id, closure=closure, last_seen=now)
    follow = _asked_later(session, survey)
    first = next_question(follow, {})
    assert first is not None, "begin_follow_up is only called when the survey has one"
    session = session.evolve(question=first.id)
    intro = Msg.of(M.CLOSURE_INTRO if closure else M.FOLLOW_UP_INTRO, date=date,
                   reference=reference, station=station_name(survey, station, lang))
    return session, ask(session, follow, intro)


def follow_up_thanks(session: Session) -> Reply:
    msgid = M.CLOSURE_THANKS if session.closure else M.FOLLOW_UP_THANKS
    return _say(session, Msg.of(msgid, reference=session.reference or ""))


def _asked_later(session: Session, survey: Survey) -> Survey:
    return survey.for_closure() if session.closure else survey.for_follow_up()


def _on_follow_up(session: Session, event: Event, survey: Survey) -> Result:
    """The follow-up's questions, answered like the survey's; a poster scanned meanwhile
    starts a new feedback and leaves the follow-up unanswered."""
    follow = _asked_later(session, survey)
    if isinstance(event, Start) and (event.code or "").strip():
        return _start(Session(lang=session.lang, last_seen=session.last_seen), event.code,
                      survey, event.lang)
    first = next_question(follow, {})
    if follow.question(session.question or "") is None or first is None:
        return _stop(session)  # the survey file lost the follow-up meanwhile
    if isinstance(event, Text) and command(event.text) == "restart":
        again = session.evolve(answers={}, history=(), misses=0, question=first.id)
        return again, [ask(again, follow, Msg(M.RESTARTED))]
    return _on_question(session, event, follow)


# ---- after the end --------------------------------------------------------------------


def _on_ended(session: Session, event: Event, now: datetime, survey: Survey) -> Result:
    if session.follow_up is not None:  # whatever comes next is not the follow-up's
        session = session.evolve(follow_up=None, closure=False, answers={}, history=())
    if isinstance(event, Start):
        return _start(session, event.code, survey, event.lang, now)
    cmd = command(event.text) if isinstance(event, Text) else None
    if cmd and cmd.startswith("lang:"):
        session = _language(session, cmd, survey)
    if cmd == "restart" or session.outcome == "expired":
        before: tuple[Msg, ...] = (
            (Msg(M.EXPIRED),) if session.outcome == "expired" and cmd != "restart" else ())
        if session.station is None:
            new, reply = picker(session, survey, None, *before)
            return new, [reply]
        before = before or _replacing(session, session.station, now)
        return _begin(session, session.station, survey, *before)
    if isinstance(event, Text) and (station := code_in_text(event.text, survey.stations)):
        return _begin(session, station.code, survey, *_replacing(session, station.code, now))
    if session.outcome == "complete" and session.reference:
        msgid = M.HELP_AFTER_FEEDBACK if cmd == "help" else M.ENDED_COMPLETE
        return session, [_say(session, Msg.of(msgid, reference=session.reference))]
    return session, [_say(session, Msg(M.ENDED_STOPPED))]


def _replacing(session: Session, station: str, now: datetime) -> tuple[Msg, ...]:
    """The note that a new feedback for `station` now replaces the one just given (the
    service's rule: the same station within the update window), or nothing."""
    if (session.outcome == "complete" and session.reference and session.station == station
            and session.update_until is not None and now < session.update_until):
        return (Msg.of(M.RESTART_REPLACES, reference=session.reference),)
    return ()
