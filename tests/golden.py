"""Golden snapshots: plain data compared with a committed JSON file.

`check(path, data)` compares `data` with the file. With PRAYAS_UPDATE_GOLDEN=1 it
rewrites the file instead, so an intended change shows as a diff in git to be read
before it is committed. Without that variable a missing file fails the test: a
snapshot is never created silently (in CI nobody would read it).

Also here: the engine's events and effects as plain data, and the scripted
conversations that the engine, channel and service snapshots replay.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

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
from conversations.engine import begin_follow_up, follow_up_thanks, new_session, step, thanks
from conversations.session import Session
from conversations.survey import Survey

UPDATE = "PRAYAS_UPDATE_GOLDEN"
_written: dict[Path, str] = {}  # what this test session wrote, in update mode


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def check(path: Path, data: Any) -> None:
    """`data` must be what `path` holds (or, with PRAYAS_UPDATE_GOLDEN=1, becomes it)."""
    got = dumps(data)
    if os.environ.get(UPDATE) == "1":
        # One file for several parametrisations (both databases): the second may not
        # quietly overwrite what the first wrote in this run.
        first = _written.setdefault(path.resolve(), got)
        if first != got:
            pytest.fail(f"{path}: two runs of this test in one session disagree", pytrace=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != got:
            path.write_text(got, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}: run with {UPDATE}=1, then read and commit it",
                    pytrace=False)
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(keepends=True),
                                            got.splitlines(keepends=True),
                                            f"{path.name} (golden)", f"{path.name} (now)"))
        pytest.fail(f"{path} differs (after a deliberate change: {UPDATE}=1, read the "
                    f"diff, commit it):\n{diff}", pytrace=False)


def lines(text: str) -> list[str]:
    """A message's text as its lines: a changed line reads as one line of the diff
    ("\\n".join gives the text back, exactly)."""
    return text.split("\n")


# ---- the engine's vocabulary as plain data ----------------------------------------------


def msg_data(msg: Msg) -> dict[str, Any]:
    data: dict[str, Any] = {"id": msg.id}
    if msg.params:
        data["params"] = {k: msg_data(v) if isinstance(v, Msg) else v for k, v in msg.params}
    return data


def reply_data(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"lang": reply.lang, "lines": [msg_data(m) for m in reply.lines]}
    if reply.choices:
        data["choices"] = [{"id": c.id, "number": c.number, "label": msg_data(c.label),
                            **({"emoji": c.emoji} if c.emoji else {})} for c in reply.choices]
    if reply.question is not None:
        data["question"] = reply.question
    if reply.image is not None:
        data["image_bytes"] = len(reply.image)
    if reply.documents:
        data["documents"] = [name for name, _ in reply.documents]
    return data


def effect_data(effect: Effect) -> dict[str, Any]:
    if isinstance(effect, Reply):
        return {"reply": reply_data(effect)}
    if isinstance(effect, Completed):
        return {"completed": True}
    assert isinstance(effect, Closed)
    return {"closed": effect.reason}


def event_data(event: Event) -> dict[str, Any]:
    if isinstance(event, Start):
        return {"start": {"code": event.code, "lang": event.lang}}
    if isinstance(event, Text):
        return {"text": event.text}
    if isinstance(event, Tap):
        return {"tap": {"question": event.question, "option": event.option}}
    if isinstance(event, Media):
        return {"media": {"kind": event.kind, "ref": event.ref}}
    assert isinstance(event, Tick)
    return {"tick": True}


# ---- scripted conversations -------------------------------------------------------------

STEP = timedelta(seconds=10)  # a citizen's pause between messages, unless a script says


@dataclass(frozen=True)
class Script:
    """A conversation: (pause before it, event) pairs; `follow_up` opens it as one."""

    name: str
    events: tuple[tuple[timedelta, Event], ...]
    follow_up: bool = False


def _script(name: str, *events: Event | tuple[timedelta, Event],
            follow_up: bool = False) -> Script:
    return Script(name, tuple(e if isinstance(e, tuple) else (STEP, e) for e in events),
                  follow_up)


def clock(start: datetime, script: Script) -> Iterator[tuple[datetime, Event]]:
    """The script's events at their fixed instants."""
    now = start
    for pause, event in script.events:
        now += pause
        yield now, event


SCRIPTS = {s.name: s for s in [
    # Every question answered by tapping its button, in Hindi (complaint: all 11 asked).
    _script("hi_taps", Start("BLB05"), Tap("purpose", "complaint_fir"),
            Tap("heard", "under_15m"), Tap("behaviour", "4"), Tap("receipt", "yes"),
            Tap("action", "in_progress"), Tap("guidance", "yes"), Tap("demand", "no"),
            Tap("satisfaction", "5"), Tap("comment", "_skip"), Tap("contact", "no"),
            Tap("followup", "yes"), Text("धन्यवाद")),
    # Typed: Hindi words, Hinglish ("accha", "haan ji", "ji"), Devanagari digits, a comment.
    _script("hi_typed", Start("BLB06"), Text("शिकायत"), Text("२"), Text("accha"),
            Text("haan ji"), Text("chal rahi"), Text("nahi"), Text("नहीं"), Text("५"),
            Text("थाने में पीने के पानी की व्यवस्था नहीं है"), Text("ji"), Text("na")),
    # A skip, nonsense re-asked three times (then the hint), a stale button, an emoji,
    # "back", a photo where a comment is asked, a voice note as the comment.
    _script("hi_skip_reask_voice", Start("BLB05"), Text("3"), Text("छोड़ें"),
            Text("asdf"), Text("kuch bhi"), Text("xyz"), Tap("purpose", "other"), Text("😊"),
            Text("पीछे"), Text("4"), Text("1"), Text("3"), Text("2"),
            Media("photo", "photo-file-1"), Media("voice", "voice-file-1"), Text("2"),
            Text("2")),
    # English from the start, by words; a red alert (a demand) and a hidden phone number.
    # The "yes" is asked back, and confirmed by its number (2).
    _script("en_words", Start("BLB07", "en"), Text("complaint"), Text("no one listened"),
            Text("very bad"), Text("no"), Text("no action"), Text("no"), Text("yes"),
            Text("2"), Text("1"), Text("They asked me for 500 rupees, call me on 9876543210"),
            Text("yes"), Text("yes")),
    # Silent for a day: the sweep's Tick closes it; the next message starts again.
    _script("hi_idle_tick", Start("BLB05"), Text("1"),
            (timedelta(hours=10), Tick()), (timedelta(hours=14), Tick()),
            (timedelta(minutes=1), Text("1"))),
    # Typed from habit and after pauses: "1" at the demand is asked back and undone by
    # "1"; a pause of 35 minutes and one of 5 hours go on where they stopped; a number
    # out of range says the range; "500 रुपये मांगे" confirmed; a digit as the comment,
    # a voice note where a number is asked, then as the comment.
    _script("hi_habit_pause", Start("BLB05"), Text("चोरी"), Text("10 मिनट"),
            (timedelta(minutes=35), Text("अच्छे थे")), Text("मिल गई"), Text("7"), Text("नही"),
            (timedelta(hours=5), Text("1")), Text("1"), Text("1"), Text("500 रुपये मांगे"),
            Tap("_confirm", "yes"), Media("voice", "voice-file-1"), Text("4"), Text("3"),
            Media("voice", "voice-file-2"), Text("ठीक है"), Text("हाँ"), Text("मदद"),
            Text("फिर से")),
    # No code in the link: the station picker; then a poster of another station midway.
    # "चौकी" alone lists the chowkis; a shortlist's number out of its range says so.
    _script("hi_picker_kinds", Start(None), Text("चौकी"), Text("भाटापारा"), Text("3"),
            Text("2")),
    _script("hi_picker_switch", Start(None), Text("सुहेला"), Text("1"), Start("BLB07"),
            Tap("_switch", "continue"), Start("BLB07"), Text("1")),
    # A week later, the follow-up of a stored feedback: asked, answered, thanked.
    _script("hi_follow_up", Text("कुछ नहीं पता"), Text("२"), Tap("fu_informed", "yes"),
            Text("ठीक है"), follow_up=True),
]}


# ---- what the engine says, turn by turn -------------------------------------------------

# The first reference of a year on a fresh database (storage/turn.py numbers them): what
# the service would thank with. The follow-up's feedback is that one, a week earlier.
REFERENCE = "FB-26-000001"
UPDATE_WINDOW = timedelta(hours=24)  # config.yaml sessions.update_window_hours
FOLLOWED_ID, FOLLOWED_STATION = 1, "BLB05"


def open_session(script: Script, survey: Survey, start: datetime,
                 lang: str = "hi") -> tuple[Session, Reply | None]:
    """A new citizen's session; or, for a follow-up script, the follow-up's and its opening."""
    if not script.follow_up:
        return new_session(lang), None
    visited = (start - timedelta(days=7)).date()
    date = format_date(visited, format="d MMMM", locale="hi_IN" if lang == "hi" else "en_IN")
    return begin_follow_up(lang, FOLLOWED_ID, REFERENCE, FOLLOWED_STATION, date, start, survey)


def replies(script: Script, survey: Survey, start: datetime,
            lang: str = "hi") -> list[tuple[Event | None, list[Reply]]]:
    """Per event, the replies a channel gets to send: the engine's, then the thanks the
    service adds on completion (scheduler/service.py), with the reference it would give.
    A follow-up script's opening comes first, as (None, [its message])."""
    session, opening = open_session(script, survey, start, lang)
    turns: list[tuple[Event | None, list[Reply]]] = [(None, [opening])] if opening else []
    for now, event in clock(start, script):
        session, effects = step(session, event, now, survey)
        said = [e for e in effects if isinstance(e, Reply)]
        if any(isinstance(e, Completed) for e in effects):
            if session.follow_up is not None:
                said.append(follow_up_thanks(session))
            else:
                session = session.evolve(reference=REFERENCE, update_until=now + UPDATE_WINDOW)
                said.append(thanks(session, REFERENCE, False))
        turns.append((event, said))
    return turns
