"""The district's configuration: one YAML file read once into typed objects.

Secrets never live in the file; they come from the environment (see `Secrets`).
Every problem with the file becomes a `ConfigError` naming the file, the key and
the fix, which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from scheduler.errors import ConfigError

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PATH_PATTERN = r"^/[A-Za-z0-9/_-]*$"
CONTENT_SID = r"^HX[0-9a-fA-F]{32}$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Strict(BaseModel):
    # Unknown keys are typos more often than not: refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Loader(yaml.SafeLoader):
    """YAML without base-60 numbers: YAML 1.1 reads an unquoted 9:30 as 570, and then a
    bare 900 or 9 could not be told from a time. Here 9:30 stays text; numbers are only
    numbers."""


_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                  r"|[-+]?0x[0-9a-fA-F_]+)$")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))


def _parse_clock(value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. \"09:00\"")
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


# Every time of day in the file, parsed the same way (an unquoted 9:30 included).
Clock = Annotated[time, BeforeValidator(_parse_clock),
                  Field(description="HH:MM in the district's time zone")]
ContentSid = Annotated[str, Field(pattern=CONTENT_SID)]


class StationKind(StrEnum):
    THANA = "thana"
    CHOWKI = "chowki"
    OFFICE = "office"


class InCharge(Strict):
    name: str = ""
    rank: str = ""
    phone: str = ""


class Station(Strict):
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    name_hi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    kind: StationKind
    in_charge: InCharge = InCharge()
    subdivision: str = ""  # the code of its district's subdivision (its SDOP), if any


class Subdivision(Strict):
    """A police subdivision: its SDOP may stand between the in-charges and the SP office
    (cases.escalate_to)."""

    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    name_hi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]


class SpOffice(Strict):
    name_hi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]


class District(Strict):
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    name_hi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    sp_office: SpOffice
    subdivisions: list[Subdivision] = []
    stations: Annotated[list[Station], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_subdivisions(self) -> District:
        codes = [s.code for s in self.subdivisions]
        if len(set(codes)) != len(codes):
            raise ValueError("two subdivisions share a code; give each its own")
        for n, station in enumerate(self.stations):
            if station.subdivision and station.subdivision not in codes:
                known = ", ".join(codes) or "none: add them under subdivisions:"
                raise ValueError(f"stations[{n}].subdivision: {station.subdivision!r} is "
                                 f"not a subdivision of this district ({known})")
        return self

    def subdivision(self, code: str) -> Subdivision | None:
        return next((s for s in self.subdivisions if s.code == code), None)


class Campaign(Strict):
    title_hi: str
    title_en: str
    logo: str = ""  # a PNG/JPEG for the posters' header, relative to the config file


class Sessions(Strict):
    # A citizen who pauses goes on where they stopped, within this; then the attempt
    # is closed as incomplete.
    idle_timeout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 24 * 60
    update_window_hours: Annotated[int, Field(ge=0, le=24 * 7)] = 24
    max_comment_chars: Annotated[int, Field(ge=50, le=4000)] = 1000
    # One citizen's pace (officers are not limited): past it, one "please slow down" and
    # nothing more answered or stored that minute; and feedback opened per hour.
    max_messages_per_minute: Annotated[int, Field(ge=5, le=600)] = 20
    max_new_feedback_per_hour: Annotated[int, Field(ge=1, le=100)] = 5


class WeeklyAt(Strict):
    weekday: Annotated[Literal[WEEKDAYS],  # type: ignore[valid-type]
                       BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)
                       ] = "monday"
    at: Clock = time(10, 0)


class Digests(Strict):
    sp_office_daily_at: Clock = time(9, 0)
    in_charge_weekly: WeeklyAt = WeeklyAt()
    min_responses_to_rank: Annotated[int, Field(ge=1)] = 5
    # more ranked stations of a kind than this: the best and worst halves are listed,
    # every station in a CSV table sent with the digest (likewise the too-few and
    # silent stations' names past this many)
    listed_per_kind: Annotated[int, Field(ge=4)] = 40
    # open alerts listed in a digest, the most urgent first; the daily digest attaches
    # them all as a table when there are more
    listed_alerts: Annotated[int, Field(ge=1)] = 30
    # integrity flags: a burst, a streak of identical top scores, one sender, many stations
    burst_count: Annotated[int, Field(ge=2)] = 5
    burst_minutes: Annotated[int, Field(ge=1)] = 10
    top_streak: Annotated[int, Field(ge=2)] = 5
    sender_stations: Annotated[int, Field(ge=2)] = 3


class Condition(Strict):
    """An answer that triggers a rule: `in` a set of option ids, or a scale `at_most` N."""

    question: str
    in_: Annotated[list[str] | None, Field(alias="in")] = None
    at_most: int | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.in_ is None) == (self.at_most is None):
            raise ValueError("give exactly one of `in: [option ids]` or `at_most: N`")
        return self


class AlertRule(Strict):
    id: str
    any: Annotated[list[Condition], Field(min_length=1)]
    notify: Annotated[list[Literal["in_charge", "sp_office"]], Field(min_length=1)]
    severity: Literal["red", "normal"] = "normal"
    # The reason as an officer reads it in an alert, a few words ("खराब व्यवहार").
    label_hi: str = ""
    label_en: str = ""

    def label(self, lang: str) -> str:
        return (self.label_hi if lang == "hi" else self.label_en) or self.label_en or self.id


class Alerts(Strict):
    acknowledge_within_hours: Annotated[int, Field(ge=1)] = 24
    # A station with fewer completed feedback in the week before: its in-charge reads
    # an alert's time as the part of the day, so that it cannot point at one visitor.
    exact_time_from_weekly: Annotated[int, Field(ge=0)] = 30
    rules: list[AlertRule] = []


class CaseDeadlines(Strict):
    """Hours a case may stay in each state before it is overdue."""

    new: Annotated[int, Field(ge=1)] = 24  # until the SP office instructs the in-charge
    instructed: Annotated[int, Field(ge=1)] = 72  # until the in-charge reports action
    reported: Annotated[int, Field(ge=1)] = 48  # until the SP office closes or returns it
    returned: Annotated[int, Field(ge=1)] = 72  # until the in-charge reports again


class Preset(Strict):
    """An instruction the SP office sends an in-charge with one tap."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")]
    label_hi: Annotated[str, Field(min_length=1, max_length=80)]
    label_en: Annotated[str, Field(min_length=1, max_length=80)]

    def label(self, lang: str) -> str:
        return self.label_hi if lang == "hi" else self.label_en


PRESETS = [
    Preset(id="call_citizen", label_hi="एसपी कार्यालय के ज़रिए नागरिक से बात करें",
           label_en="Speak to the citizen through the SP office"),
    Preset(id="register_fir", label_hi="एफ़आईआर दर्ज करें", label_en="Register the FIR"),
    Preset(id="inquire", label_hi="जाँच करके रिपोर्ट दें", label_en="Inquire and report"),
    Preset(id="counsel_staff", label_hi="स्टाफ़ को समझाइश दें", label_en="Counsel the staff"),
]


class Cases(Strict):
    due_hours: CaseDeadlines = CaseDeadlines()
    presets: Annotated[list[Preset], Field(min_length=1, max_length=9)] = PRESETS
    # Who a case past its deadline goes up to, one level at a time, above its station's
    # in-charge; a level with nobody enrolled for the case's station is passed over.
    escalate_to: Annotated[list[Literal["sdop", "sp_office"]], Field(min_length=1)] = [
        "sp_office"]

    @model_validator(mode="after")
    def _distinct(self) -> Cases:
        ids = [p.id for p in self.presets]
        if len(set(ids)) != len(ids):
            raise ValueError("two presets share an id; give each its own")
        if self.escalate_to[-1] != "sp_office" or len(set(self.escalate_to)) != len(
                self.escalate_to):
            raise ValueError("escalate_to must end with sp_office, each level once")
        return self

    def preset(self, preset_id: str) -> Preset | None:
        return next((p for p in self.presets if p.id == preset_id), None)


class FollowUps(Strict):
    """Asking, days later, whether action was taken: only those who agreed are asked."""

    after_days: Annotated[int, Field(ge=1, le=90)] = 7
    answer_within_hours: Annotated[int, Field(ge=1, le=24 * 7)] = 72
    # Nobody is written to at night: a follow-up due then waits for the morning.
    send_from: Clock = time(9, 0)
    send_until: Clock = time(20, 0)


class Retention(Strict):
    personal_data_days: Annotated[int, Field(ge=7, le=3650)] = 365


class Telegram(Strict):
    bot_username: Annotated[str, Field(pattern=r"^$|^[A-Za-z][A-Za-z0-9_]{3,31}$")] = ""
    base_url: str = ""
    public_url: str = ""  # https://... where `prayas serve` is reachable; webhook set on start
    webhook_path: Annotated[str, Field(pattern=PATH_PATTERN)] = "/telegram/webhook"
    invite_valid_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 72


class WhatsApp(Strict):
    """Twilio's WhatsApp sender. TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: environment."""

    number: str = ""  # the WhatsApp sender, in international form: +91 77xxxxxxxx
    public_url: str = ""  # https://... as Twilio calls us: the signature covers this URL
    webhook_path: Annotated[str, Field(pattern=PATH_PATTERN)] = "/whatsapp/webhook"
    status_path: Annotated[str, Field(pattern=PATH_PATTERN)] = "/whatsapp/status"
    # a digest's chart and tables, fetched by Twilio from public_url + this path
    media_path: Annotated[str, Field(pattern=PATH_PATTERN)] = "/whatsapp/media"
    # Behind a TLS-terminating proxy the URL Twilio signed is public_url, not what we
    # see; X-Forwarded-* headers are believed only when this says the proxy is ours.
    trust_forwarded_headers: bool = False
    api_base_url: str = ""  # a proxy or a test's fake; TWILIO_API_BASE_URL overrides
    # Outside the 24-hour window WhatsApp takes only approved templates: a ContentSid
    # per message kind and language, its one variable {{1}} the message's first line.
    # A case's messages go by `case`'s, or else `alert`'s; a report by `report`'s, or `digest`'s.
    templates: dict[Literal["alert", "red_alert", "escalation", "case", "digest", "report",
                            "follow_up", "closure_check"], dict[str, ContentSid]] = {}
    # Optional quick-reply buttons: a Content API template per question and language,
    # its body {{1}} and its buttons' ids "question:option".
    quick_replies: dict[str, dict[str, ContentSid]] = {}

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if value and not re.fullmatch(r"\+[1-9][0-9]{7,14}", re.sub(r"[\s()-]", "", value)):
            raise ValueError(f"{value!r} is not a phone number in international form; "
                             "write it like +91 77000 12345")
        return value

    @property
    def sender(self) -> str:
        """The number as Twilio names it: whatsapp:+9177...."""
        return "whatsapp:" + re.sub(r"[\s()-]", "", self.number)

    @field_validator("public_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
            raise ValueError(f"{value!r} is not a URL; write it like https://prayas.example.in")
        return value.rstrip("/")


class Web(Strict):
    """What `prayas serve` takes from one connection before the app sees it: a proxy in
    front should be stricter still (README, "Behind a reverse proxy")."""

    max_connections: Annotated[int, Field(ge=10, le=100_000)] = 500
    max_header_bytes: Annotated[int, Field(ge=4096, le=1 << 20)] = 16 * 1024
    max_headers: Annotated[int, Field(ge=16, le=1000)] = 100
    read_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 15


class Console(Strict):
    """The SP office's web console, served by `prayas serve` (bot/office)."""

    enabled: bool = True
    path: Annotated[str, Field(pattern=PATH_PATTERN)] = "/console"


class Database(Strict):
    url: str = ""


class Config(Strict):
    campaign: Campaign
    timezone: str = "Asia/Kolkata"
    languages: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]],
                         Field(min_length=1)] = ["hi", "en"]
    default_language: str = "hi"
    data_dir: str = ""
    database: Database = Database()
    sessions: Sessions = Sessions()
    digests: Digests = Digests()
    alerts: Alerts = Alerts()
    cases: Cases = Cases()
    follow_ups: FollowUps = FollowUps()
    retention: Retention = Retention()
    telegram: Telegram = Telegram()
    whatsapp: WhatsApp = WhatsApp()
    web: Web = Web()
    console: Console = Console()
    districts: Annotated[list[District], Field(min_length=1)]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Asia/Kolkata"
            ) from None
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> Config:
        seen: dict[str, str] = {}
        for d, district in enumerate(self.districts):
            for s, station in enumerate(district.stations):
                key = station.code.upper()
                where = f"districts[{d}].stations[{s}].code"
                if key in seen:
                    raise ValueError(
                        f"{where}: station code {station.code!r} is already used at {seen[key]};"
                        " every station needs its own code"
                    )
                seen[key] = where
        subdivisions = [s.code for d in self.districts for s in d.subdivisions]
        if len(set(subdivisions)) != len(subdivisions):
            raise ValueError("two subdivisions share a code across districts; an SDOP is "
                             "enrolled by it, so give each its own")
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of `languages`")
        if self.follow_ups.after_days * 24 <= self.sessions.update_window_hours:
            # A second feedback within the window replaces the first's answers, the
            # follow-up's among them.
            raise ValueError(
                f"follow_ups.after_days ({self.follow_ups.after_days}) must come after "
                f"sessions.update_window_hours ({self.sessions.update_window_hours} h); "
                "raise the one or lower the other")
        return self

    @model_validator(mode="after")
    def _distinct_paths(self) -> Config:
        # One path, one endpoint: otherwise a citizen's message could be taken for a
        # delivery report, or a Telegram update for a WhatsApp message, and be lost.
        seen = {"/healthz": "the health check"}
        for key, path in (("telegram.webhook_path", self.telegram.webhook_path),
                          ("whatsapp.webhook_path", self.whatsapp.webhook_path),
                          ("whatsapp.status_path", self.whatsapp.status_path),
                          ("whatsapp.media_path", self.whatsapp.media_path),
                          ("console.path", self.console.path)):
            if path in seen:
                raise ValueError(f"{key}: {path!r} is already {seen[path]}'s path; "
                                 "give each its own")
            seen[path] = key
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stations(self) -> Iterator[tuple[District, Station]]:
        for district in self.districts:
            for station in district.stations:
                yield district, station

    def district_of(self, station_code: str) -> str | None:
        wanted = station_code.upper()
        return next((d.code for d, s in self.stations() if s.code.upper() == wanted), None)

    def station(self, code: str) -> Station | None:
        for _, station in self.stations():
            if station.code.upper() == code.upper():
                return station
        return None


def _location(err: ErrorDetails) -> str:
    parts: list[str] = []
    for item in err["loc"]:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif "function" in str(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _explain(err: ErrorDetails) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key; check its spelling or remove it (see README, Configuration)"
    if kind == "missing":
        return "required key is missing; add it"
    if kind == "string_pattern_mismatch":
        return "use 1-64 characters: letters, digits, _ or -"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{err.get('input')!r} is not a whole number; write one, like 24"
    if kind == "bool_parsing":
        return f"{err.get('input')!r} is not true or false; write one of them"
    return msg.removeprefix("Value error, ")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and check the config file; raise ConfigError with a one-line reason."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found; pass --config FILE or set PRAYAS_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}:{where} is not valid YAML; check indentation and quotes"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (campaign:, districts:, ...)")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        # A misspelt key is both unknown and, under its right name, missing: name the typo.
        first = next((e for e in exc.errors() if e["type"] == "extra_forbidden"),
                     exc.errors()[0])
        where = _location(first)
        reason = _explain(first)
        more = len(exc.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        key = f" {where}:" if where else ""
        raise ConfigError(f"{path}:{key} {reason}{tail}") from None
