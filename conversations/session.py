"""A citizen's conversation state: plain data, stored as JSON between turns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal

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
        # Only what is set, in the fields' order.
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
        # Keys this version does not know (written by a newer one) are left out.
        return cls(data.get("option"), data.get("text"), data.get("voice"),
                   data.get("skipped", False))


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
    closure: bool = False  # ... or, its case closed, whether the citizen is satisfied
    confirming: str | None = None  # an option of `question` asked back before it is taken
    # Set by the service on completion: until then a new feedback for the same station
    # updates this one, and the citizen is told so.
    update_until: datetime | None = None

    def evolve(self, **changes: Any) -> Session:
        """`dataclasses.replace(self, **changes)`, for the callers that spell it so."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: an answer leaves out what is not set.
        data = dict(self.__dict__)
        data["answers"] = {q: a.to_json() for q, a in self.answers.items()}
        data["history"] = list(self.history)
        data["candidates"] = list(self.candidates)
        data["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        data["update_until"] = self.update_until.isoformat() if self.update_until else None
        if not self.closure:  # as rows were stored before there was a closure question
            del data["closure"]
        return data

    def dumps(self) -> str:
        """`to_json()` as compact JSON text, non-ASCII kept as UTF-8 rather than escaped:
        the form sessions have always been stored in."""
        return _ENCODER.encode(self.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        # Keys this version does not know (written by a newer one) are left out.
        data = {k: v for k, v in data.items() if k in _NAMES}
        data["answers"] = {q: Answer.from_json(a) for q, a in data.get("answers", {}).items()}
        data["history"] = tuple(data.get("history", ()))
        data["candidates"] = tuple(data.get("candidates", ()))
        for moment in ("last_seen", "update_until"):
            if data.get(moment):
                data[moment] = datetime.fromisoformat(data[moment])
        return cls(**data)


_NAMES = frozenset(f.name for f in fields(Session))
# One encoder for every session: json.dumps with options builds a new one on each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
