"""A citizen's conversation state: plain data, stored as JSON between turns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

Stage = Literal["new", "pick_station", "confirm_switch", "asking", "ended"]
Outcome = Literal["complete", "stopped", ""]


@dataclass(frozen=True)
class Answer:
    """One answer: an option id, a comment text, a voice note reference, or a skip."""

    option: str | None = None
    text: str | None = None
    voice: str | None = None
    skipped: bool = False


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

    def to_json(self) -> dict[str, Any]:
        # Written by hand, not dataclasses.asdict: this runs on every turn, and asdict
        # deep-copies everything.
        data = {f.name: getattr(self, f.name) for f in _SESSION_FIELDS}
        data["answers"] = {
            q: {k: v for k, v in vars(a).items() if v is not None and v is not False}
            for q, a in self.answers.items()
        }
        data["history"] = list(self.history)
        data["candidates"] = list(self.candidates)
        data["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        answer_fields = {f.name for f in fields(Answer)}
        data["answers"] = {q: Answer(**{k: v for k, v in a.items() if k in answer_fields})
                           for q, a in data.get("answers", {}).items()}
        data["history"] = tuple(data.get("history", ()))
        data["candidates"] = tuple(data.get("candidates", ()))
        if data.get("last_seen"):
            data["last_seen"] = datetime.fromisoformat(data["last_seen"])
        return cls(**data)


_SESSION_FIELDS = fields(Session)
