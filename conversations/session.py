"""A citizen's conversation state: plain data, stored as JSON between turns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

Stage = Literal["new", "pick_station", "confirm_switch", "asking", "ended"]
Outcome = Literal["complete", "stopped", "expired", ""]


@dataclass(frozen=True)
class Answer:
    """One answer: an option id, a comment text, a voice note reference, or a skip."""

    option: str | None = None
    text: str | None = None
    voice: str | None = None
    skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        # Only what is set, in the fields' order. Spelled out: every answer of a session
        # is written on each of its turns, and a comprehension cost twice as much.
        data: dict[str, Any] = {}
        if self.option is not None:
            data["option"] = self.option
        if self.text is not None:
            data["text"] = self.text
        if self.voice is not None:
            data["voice"] = self.voice
        if self.skipped:
            data["skipped"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(**{k: v for k, v in data.items() if k in _ANSWER_NAMES})


_ANSWER_NAMES = frozenset(f.name for f in fields(Answer))


@dataclass(frozen=True)
class Session:
    lang: str
    stage: Stage = "new"
    station: str | None = None
    question: str | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    history: tuple[str, ...] = ()  # answered question ids, in order, for "back"
    misses: int = 0  # unclear replies to the current question
    candidates: tuple[str, ...] = ()  # station codes listed in the picker, in order
    pending_station: str | None = None  # a re-scanned code waiting for "start new?"
    outcome: Outcome = ""
    reference: str | None = None  # set by the service when the feedback completes
    last_seen: datetime | None = None
    follow_up: int | None = None  # asking the follow-up of this stored feedback

    def evolve(self, **changes: Any) -> Session:
        """A copy with `changes`, as dataclasses.replace makes it but without re-running
        __init__: a turn makes several, and the generic replace cost more than the rest of
        the engine's step (bench/README.md)."""
        unknown = changes.keys() - _NAMES
        if unknown:
            raise TypeError(f"Session has no field {', '.join(sorted(unknown))}")
        copy = object.__new__(Session)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def to_json(self) -> dict[str, Any]:
        # Written by hand, not dataclasses.asdict: this runs on every turn, and asdict
        # deep-copies everything.
        data = dict(self.__dict__)
        data["answers"] = {q: a.to_json() for q, a in self.answers.items()}
        data["history"] = list(self.history)
        data["candidates"] = list(self.candidates)
        data["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return data

    def dumps(self) -> str:
        """`to_json()` as JSON text, the same characters; built by orjson in C, which asks
        `_as_json` only for the session, its answers and (unless UTC) `last_seen`."""
        seen = self.last_seen
        utc = seen is None or (type(seen) is datetime and seen.tzinfo is UTC)
        return orjson.dumps(self, default=_as_json,
                            option=_DATACLASSES if utc else _DATETIMES).decode()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        # Keys this version does not know (written by a newer one) are left out.
        data = {k: v for k, v in data.items() if k in _NAMES}
        data["answers"] = {q: Answer.from_json(a) for q, a in data.get("answers", {}).items()}
        data["history"] = tuple(data.get("history", ()))
        data["candidates"] = tuple(data.get("candidates", ()))
        if data.get("last_seen"):
            data["last_seen"] = datetime.fromisoformat(data["last_seen"])
        return cls(**data)


_NAMES = frozenset(f.name for f in fields(Session))


# orjson writes tuples as lists, and a UTC datetime, as to_json does. Any other datetime
# goes through isoformat(): orjson would round an offset to the minute.
_DATACLASSES = orjson.OPT_PASSTHROUGH_DATACLASS
_DATETIMES = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _as_json(value: object) -> Any:
    if type(value) is Answer:
        return value.to_json()
    if type(value) is Session:
        return value.__dict__
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of a session")
