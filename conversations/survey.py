"""The survey as data: questions, options, conditions — loaded from YAML and checked.

Labels in the file are English gettext message ids; the Hindi (and any other
language) lives in `locale/`. Question and option ids are stable: stored answers
refer to them, so re-wording or translating never breaks history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

from conversations.effects import Choice, Msg
from conversations.messages import NOTHING_TO_ADD
from conversations.text import normalize

# Ids starting with "_" are the engine's own (_station, _switch, _confirm, _skip).
SKIP_CHOICE = "_skip"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
QuestionType = Literal["choice", "scale", "text"]

# Shared labels of every 1-5 scale; a question may override them with `labels:`.
SCALE_LABELS = (
    "Very bad",
    "Bad",
    "Okay",
    "Good",
    "Very good",
)
SCALE_EMOJI = ("😡", "🙁", "😐", "🙂", "😊")


class SurveyError(Exception):
    """The survey file is wrong; the message names the file, the place and the fix."""


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    emoji: str = ""
    words: frozenset[str] = frozenset()  # normalised; the shared yes/no/scale ones included
    value: int | None = None  # the number on a 1-5 scale
    # "How soon": the minutes a typed duration ("10 मिनट", "2 घंटे") must fall in.
    minutes: tuple[int, int | None] | None = None
    # Asked back before this answer is taken (a msgid): "you are telling us ... right?"
    confirm: str = ""


@dataclass(frozen=True)
class Words:
    """What citizens type for the answers every question shares (survey file, `words:`).

    Normalised. `yes_strict` is "yes" where a wrong one has consequences (a red alert)."""

    yes: frozenset[str] = frozenset()
    yes_strict: frozenset[str] = frozenset()
    no: frozenset[str] = frozenset()
    scale: Mapping[int, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    ask: str
    options: tuple[Option, ...] = ()
    required: bool = False
    strict: bool = False  # only digits and explicit words: no emoji or "ji" shortcuts
    # question id -> option ids that make this question apply (all must hold)
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # values for placeholders in `ask` that come from the deployment ("{days}")
    ask_params: tuple[tuple[str, str], ...] = ()

    @property
    def prompt(self) -> Msg:
        return Msg(self.ask, self.ask_params)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    @cached_property
    def choices(self) -> tuple[Choice, ...]:
        """What the citizen picks from, numbered; a text question's is "nothing to add"."""
        if self.type == "text":
            return () if self.required else (Choice(SKIP_CHOICE, 1, Msg(NOTHING_TO_ADD)),)
        return tuple(Choice(o.id, n, Msg(o.label), o.emoji)
                     for n, o in enumerate(self.options, start=1))

    @cached_property
    def timed(self) -> bool:
        """Whether a typed duration answers it ("10 मिनट")."""
        return any(o.minutes is not None for o in self.options)

    @cached_property
    def phrases(self) -> Mapping[str, str]:
        """Every word an option is known by (normalised) -> its option id; where two
        options share a word, the first has it."""
        phrases: dict[str, str] = {}
        for option in self.options:
            for word in sorted(option.words | {normalize(option.label)}):
                if word:
                    phrases.setdefault(word, option.id)
        return phrases


@dataclass(frozen=True)
class StationRef:
    """What the dialogue needs to know of a station: its code and its names."""

    code: str
    name_hi: str
    name_en: str
    kind: str = ""  # thana, chowki or office (config.yaml)

    def name(self, lang: str) -> str:
        return self.name_hi if lang == "hi" else self.name_en


@dataclass(frozen=True)
class Survey:
    """The survey as run in one deployment: questions plus the district's stations."""

    id: str
    questions: tuple[Question, ...]
    stations: tuple[StationRef, ...] = ()
    languages: tuple[str, ...] = ("hi", "en")
    idle_timeout: timedelta = timedelta(minutes=30)
    max_comment_chars: int = 1000
    # Asked days later about the same visit; answered within `follow_up_timeout`.
    follow_up: tuple[Question, ...] = ()
    follow_up_timeout: timedelta = timedelta(hours=72)
    # Asked when the SP office closes the feedback's case: is the citizen satisfied now?
    closure: tuple[Question, ...] = ()
    words: Words = Words()

    def for_follow_up(self) -> Survey:
        """The follow-up's questions, run by the same dialogue as the survey's."""
        return replace(self, questions=self.follow_up, follow_up=(), closure=())

    def for_closure(self) -> Survey:
        """The closure's question, run likewise."""
        return replace(self, questions=self.closure, follow_up=(), closure=())

    @property
    def every_question(self) -> tuple[Question, ...]:
        """The visit's, the follow-up's and the closure's: all stored with the feedback."""
        return (*self.questions, *self.follow_up, *self.closure)

    def question(self, question_id: str) -> Question | None:
        """None when the survey file no longer has it (edited while citizens were answering)."""
        return self._questions.get(question_id)

    def station(self, code: str) -> StationRef | None:
        return self._stations.get(code.upper())

    # Looked up several times a turn; a district has a hundred stations or more.
    @cached_property
    def _questions(self) -> dict[str, Question]:
        by_id: dict[str, Question] = {}
        for question in self.questions:
            by_id.setdefault(question.id, question)
        return by_id

    @cached_property
    def _stations(self) -> dict[str, StationRef]:
        by_code: dict[str, StationRef] = {}
        for station in self.stations:
            by_code.setdefault(station.code.upper(), station)  # the first, as before
        return by_code

    def with_label_words(self, labels: Mapping[str, Iterable[str]]) -> Survey:
        """Let citizens type an option's label in any language we translate it to.

        `labels` maps an English label (msgid) to its translations.
        """
        def worded(q: Question) -> Question:
            return replace(q, options=tuple(
                replace(o, words=o.words | {normalize(t) for t in labels.get(o.label, ())})
                for o in q.options))

        return replace(self, questions=tuple(worded(q) for q in self.questions),
                       follow_up=tuple(worded(q) for q in self.follow_up),
                       closure=tuple(worded(q) for q in self.closure))


def _fail(path: Path, where: str, message: str) -> SurveyError:
    return SurveyError(f"{path}: {where}: {message}")


def _words(path: Path, where: str, raw: Any) -> frozenset[str]:
    if raw is not None and not isinstance(raw, list):
        raise _fail(path, where, "expected a list of words: [word, word, ...]")
    if any(isinstance(w, bool) for w in raw or ()):
        # YAML reads a bare yes, no, on or off as true or false.
        raise _fail(path, where, 'write yes, no, on and off in quotes: "yes"')
    return frozenset(normalize(str(w)) for w in raw or () if normalize(str(w)))


def _options(path: Path, where: str, qtype: str, raw: dict[str, Any],
             words: Words) -> tuple[Option, ...]:
    strict = bool(raw.get("strict", False))
    if qtype == "scale":
        labels = raw.get("labels", SCALE_LABELS)
        if len(labels) != 5:
            raise _fail(path, f"{where}.labels", "a scale needs exactly 5 labels, worst first")
        return tuple(
            Option(id=str(n), label=str(label), emoji=SCALE_EMOJI[n - 1], value=n,
                   words=words.scale.get(n, frozenset()))
            for n, label in enumerate(labels, start=1)
        )
    if qtype == "text":
        if raw.get("options"):
            raise _fail(path, f"{where}.options", "a text question takes no options; remove them")
        return ()
    options = raw.get("options") or []
    if len(options) < 2:
        raise _fail(path, f"{where}.options", "a choice question needs at least 2 options")
    result: list[Option] = []
    for n, opt in enumerate(options):
        ow = f"{where}.options[{n}]"
        if not isinstance(opt, dict) or set(opt) - OPTION_KEYS:
            raise _fail(path, ow, "write an option as {id: ..., label: ..., words: [...]}; "
                        f"its keys: {', '.join(sorted(OPTION_KEYS))}")
        oid = str(opt.get("id", ""))
        if not ID_PATTERN.match(oid):
            raise _fail(path, f"{ow}.id", f"{oid!r} is not a valid id (a-z, 0-9, _)")
        if any(o.id == oid for o in result):
            raise _fail(path, f"{ow}.id", f"option id {oid!r} is used twice in this question")
        if not opt.get("label"):
            raise _fail(path, f"{ow}.label", "every option needs a label")
        means = str(opt.get("means", oid if oid in ("yes", "no") else ""))
        if means not in ("", "yes", "no"):
            raise _fail(path, f"{ow}.means", "write means: yes or means: no")
        shared = frozenset[str]()
        if means == "yes":
            shared = words.yes_strict if strict else words.yes
        elif means == "no":
            shared = words.no
        result.append(
            Option(id=oid, label=str(opt["label"]), emoji=str(opt.get("emoji", "")),
                   words=_words(path, f"{ow}.words", opt.get("words")) | shared,
                   minutes=_minutes(path, f"{ow}.minutes", opt.get("minutes")),
                   confirm=str(opt.get("confirm") or ""))
        )
    return tuple(result)


OPTION_KEYS = {"id", "label", "words", "emoji", "means", "minutes", "confirm"}


def _minutes(path: Path, where: str, raw: Any) -> tuple[int, int | None] | None:
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[0], int)
            or not (raw[1] is None or isinstance(raw[1], int))):
        raise _fail(path, where, "write the range as [FROM, TO] in minutes, e.g. [16, 60], "
                    "or [61, null] for no upper end")
    return raw[0], raw[1]


def _question(path: Path, n: int, raw: Any, earlier: dict[str, Question], words: Words,
              section: str = "questions") -> Question:
    where = f"{section}[{n}]"
    allowed = {"id", "type", "ask", "options", "labels", "required", "strict", "when"}
    if not isinstance(raw, dict):
        raise _fail(path, where, "each question is a mapping with id, type and ask")
    if unknown := set(raw) - allowed:
        raise _fail(path, where, f"unknown key {sorted(unknown)[0]!r}; allowed: {sorted(allowed)}")
    qid = str(raw.get("id", ""))
    if not ID_PATTERN.match(qid):
        raise _fail(path, f"{where}.id", f"{qid!r} is not a valid id (a-z, 0-9, _)")
    if qid in earlier:
        raise _fail(path, f"{where}.id", f"question id {qid!r} is used twice")
    qtype = raw.get("type")
    if qtype not in ("choice", "scale", "text"):
        raise _fail(path, f"{where}.type", "type must be choice, scale or text")
    if not raw.get("ask"):
        raise _fail(path, f"{where}.ask", "every question needs the text to ask")
    when: dict[str, frozenset[str]] = {}
    for other, wanted in (raw.get("when") or {}).items():
        if other not in earlier:
            raise _fail(path, f"{where}.when.{other}",
                        "a condition must refer to an earlier question's id")
        wanted = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
        known = {o.id for o in earlier[other].options}
        if bad := [w for w in wanted if w not in known]:
            raise _fail(path, f"{where}.when.{other}",
                        f"{bad[0]!r} is not an option of {other!r}; options: {sorted(known)}")
        when[other] = frozenset(wanted)
    return Question(
        id=qid, type=qtype, ask=str(raw["ask"]),
        options=_options(path, where, qtype, raw, words),
        required=bool(raw.get("required", False)), strict=bool(raw.get("strict", False)),
        when=when,
    )


def load_survey(path: str | Path) -> Survey:
    """Read a survey file and check it: unique ids, conditions on real answers."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurveyError(f"{path}: survey file not found") from None
    except yaml.YAMLError:
        raise SurveyError(f"{path}: not valid YAML; check indentation and quotes") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise SurveyError(f"{path}: expected `id:` and a list under `questions:`")
    if unknown := set(raw) - {"id", "words", "questions", "follow_up", "closure"}:
        raise SurveyError(f"{path}: {sorted(unknown)[0]}: unknown key; only id, words, "
                          "questions, follow_up and closure")
    words = _shared_words(path, raw.get("words") or {})
    questions: dict[str, Question] = {}
    for n, item in enumerate(raw["questions"]):
        q = _question(path, n, item, questions, words)
        questions[q.id] = q
    if not questions:
        raise SurveyError(f"{path}: questions: the survey has no questions")
    # One namespace: later answers are stored beside the feedback's own.
    known: dict[str, Question] = dict(questions)
    later: dict[str, tuple[Question, ...]] = {}
    for section in ("follow_up", "closure"):
        if not isinstance(raw.get(section) or [], list):
            raise SurveyError(f"{path}: {section}: expected a list of questions")
        asked: dict[str, Question] = {}
        for n, item in enumerate(raw.get(section) or []):
            q = _question(path, n, item, {**known, **asked}, words, section=section)
            asked[q.id] = q
        known.update(asked)
        later[section] = tuple(asked.values())
    return Survey(id=str(raw.get("id", path.stem)), questions=tuple(questions.values()),
                  follow_up=later["follow_up"], closure=later["closure"], words=words)


def _shared_words(path: Path, raw: Any) -> Words:
    if isinstance(raw, dict) and (True in raw or False in raw):
        raise SurveyError(f'{path}: words: write the keys "yes" and "no" in quotes (YAML '
                          "reads them bare as true and false)")
    if not isinstance(raw, dict) or set(raw) - {"yes", "yes_strict", "no", "scale"}:
        raise SurveyError(f"{path}: words: expected lists under yes, yes_strict, no and "
                          "scale (1 to 5)")
    scale = raw.get("scale") or {}
    if not isinstance(scale, dict) or set(scale) - {1, 2, 3, 4, 5}:
        raise SurveyError(f"{path}: words.scale: expected lists under 1, 2, 3, 4 and 5")
    def listed(key: str, value: Any) -> frozenset[str]:
        return _words(path, f"words.{key}", value)

    return Words(yes=listed("yes", raw.get("yes")),
                 yes_strict=listed("yes_strict", raw.get("yes_strict")),
                 no=listed("no", raw.get("no")),
                 scale={n: listed(f"scale.{n}", scale.get(n)) for n in range(1, 6)})


DEFAULT_SURVEY = Path(__file__).with_name("survey.yaml")
