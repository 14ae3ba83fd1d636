"""The SP office's daily digest: the day, the 7-day trend per station, rankings, silent
stations and open alerts. Numbers and dates formatted by Babel for hi_IN / en_IN."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlalchemy import Engine
from sqlmodel import Session as Db

from conversations.effects import Msg, Reply
from conversations.messages import N_
from scheduler.alerts.message import marker
from scheduler.catalogs import Catalogs
from scheduler.config import Config, District
from scheduler.digests import actions, tables
from scheduler.digests.chart import chart_rows, drawn
from scheduler.digests.chart_process import ChartProcess
from storage import digest as store
from storage import follow_ups, integrity, rollup
from storage.case_numbers import CaseNumbers, case_numbers
from storage.cases import CaseRow, last_instructions, list_cases
from storage.digest import OpenAlert, StationNumbers, StationRow

T = TypeVar("T")
TITLE = N_("📊 Daily report: {district}, {date}")
DAY = N_("That day: {complete} feedback completed, {incomplete} left incomplete, "
         "{negative} negative.")
WEEK = N_("Last 7 days: {complete} completed ({completion} of those begun); staff behaviour "
          "{behaviour}, overall experience {satisfaction} (out of 5); negative {negative}.")
KINDS = ("thana", "chowki", "office")  # the order the digest lists them in
RANKED = {"thana": N_("Thanas, best first (at least {minimum} feedback in 7 days):"),
          "chowki": N_("Chowkis, best first (at least {minimum} feedback in 7 days):"),
          "office": N_("Offices, best first (at least {minimum} feedback in 7 days):")}
ROW = N_("{n}. {station}: {complete} feedback, behaviour {behaviour}, experience "
         "{satisfaction}, negative {negative}")
BETWEEN = N_("… and {count} more between these; the attached table has every station.")
TOO_FEW = N_("Too few feedback to rank: {stations}")
SILENT = N_("No feedback for 7 days (is the poster up?): {stations}")
ALERTS = N_("Open alerts: {count}")
ALERT_ROW = N_("{marker} {reference} · {station} · {reasons} · {hours} hours old")
ALERT_ROW_FRESH = N_("{marker} {reference} · {station} · {reasons} · less than an hour old")
MORE_ALERTS = N_("… open alerts not listed here: {count}; the attached table lists them all.")
IN_THE_TABLE = N_("The rankings are in the attached table of stations.")
FIRST_MESSAGE = 4096  # Telegram's longest message: the digest's text is one
MORE_IN_MENU = N_("… open alerts not listed here: {count}; see “Open alerts” in the menu.")
AND_MORE = N_("{names} and {count} more (in the attached table)")
NO_ALERTS = N_("No open alerts.")
NO_DATA = N_("–")
BURST = N_("⚠️ Unusual: {station} got {count} feedback within {minutes} minutes.")
STREAK = N_("⚠️ Unusual: {station} got {count} identical top-score feedback in a row.")
ROAMING = N_("⚠️ Unusual: {count} sender(s) gave feedback at {stations} or more stations.")
FOLLOW_UPS = N_("Follow-ups in 7 days: {asked} asked, {answered} answered; action taken "
                "for {done}, kept informed {informed}.")
WEEK_TITLE = N_("📊 Weekly report: {station}, {start} to {end}")
YOURS = N_("Your station: {complete} feedback, behaviour {behaviour}, experience "
           "{satisfaction}, negative {negative}")
DISTRICT = N_("District: behaviour {behaviour}, experience {satisfaction}, negative {negative}")
RANK = N_("Your rank: {rank} of {total}")
UNRANKED = N_("Not ranked this week: fewer than {minimum} feedback.")
WROTE = N_("What citizens wrote:")
QUOTE = N_("“{comment}”")


def _listed(names: list[str], most: int, count: Callable[[int], str]) -> Msg | str:
    """Names for one line; past `most`, the first of them and how many more."""
    if len(names) <= most:
        return ", ".join(names)
    return Msg.of(AND_MORE, names=", ".join(names[:most]), count=count(len(names) - most))


class _DayRead(NamedTuple):
    """What the daily digest reads from the database."""

    stations: list[StationRow]
    week: dict[str, StationNumbers]
    today: StationNumbers
    flags: tuple[dict[str, int], dict[str, int]]  # bursts, streaks
    cases: list[CaseRow]  # open ones
    case_numbers: dict[str, CaseNumbers]  # the 7 days'
    followed: follow_ups.Summary
    roaming: int


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A state's digest builds some 200,000 rows and tuples that live until it is sent
    and hold no reference cycles; the cyclic collector would walk them again and again
    and find nothing (0.3-0.7 s of a 2 s digest, measured by bench/digest_scale.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Digest:
    def __init__(self, engine: Engine, config: Config, catalogs: Catalogs,
                 charts: ChartProcess | None = None) -> None:
        """One Digest per batch of digests sent together: a district's week, read once,
        serves all of its in-charges' weekly digests in the batch. With `charts`, the
        chart is drawn in that process while the digest's lines are written here."""
        self.engine, self.config, self.catalogs, self.charts = engine, config, catalogs, charts
        self._district_weeks: dict[tuple[str, date],
                                   tuple[dict[str, StationNumbers], list[StationRow]]] = {}
        # The SP office's officers, queued together, get the same digest: built once.
        self._dailies: dict[tuple[str, date, str, datetime], Reply] = {}

    def _locale(self, lang: str) -> str:
        return "hi_IN" if lang == "hi" else "en_IN"

    def _count(self, value: int, lang: str) -> str:
        """12,345 in English, 12,345 / 1,23,456 in Hindi: Babel's grouping for the locale."""
        return format_decimal(value, locale=self._locale(lang))

    def _score(self, value: float | None, lang: str) -> str:
        if value is None:
            return self.catalogs.text(lang, NO_DATA)
        return format_decimal(value, format="0.0", locale=self._locale(lang))

    def _share(self, value: float | None, lang: str) -> str:
        if value is None:
            return self.catalogs.text(lang, NO_DATA)
        return format_percent(value, format="#,##0%", locale=self._locale(lang))

    def daily(self, district: District, day: date, lang: str, now: datetime) -> Reply:
        key = (district.code, day, lang, now)
        if key not in self._dailies:
            with _collector_paused():
                read, chart = self._read_day(district, day, lang, now)
                lines, documents = self._day_lines(district, day, lang, now, read)
                self._dailies[key] = Reply(lang, tuple(lines), image=chart(),
                                           documents=tuple(documents))
        return self._dailies[key]

    def _read(self, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with Db(self.engine) as db:
            return read(db, *args, **kwargs)

    def _read_day(self, district: District, day: date, lang: str,
                  now: datetime) -> tuple[_DayRead, Callable[[], bytes]]:
        """What the digest reads, and its chart: a callable that waits for the picture
        being drawn in the chart process, or draws it."""
        zone, d = self.config.zone, self.config.digests
        start = datetime.combine(day, time(0), zone)
        end, week_start = start + timedelta(days=1), start - timedelta(days=6)
        # The reads that need no rollup run beside the rollups and the Python work: the
        # database answers them on the other core (SQLite leaves the GIL while it reads;
        # PostgreSQL is another process): bench/digest_scale.py, bench/README.md.
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="digest") as pool:
            cases = pool.submit(self._read, list_cases, district=district.code,
                                open_only=True)
            counted = pool.submit(self._read, case_numbers, district.code, week_start, end, now)
            roaming = pool.submit(self._read, integrity.roaming_senders, district.code,
                                  (start, end), week_start, d.sender_stations)
            followed = pool.submit(self._read, follow_ups.summary, district.code,
                                   week_start, end)
            stations = self._read(store.stations, district.code)
            week, today = rollup.days_and_last(self.engine, day - timedelta(days=6), day,
                                               zone, district.code, d.burst_minutes)
            flags = rollup.day_flags(self.engine, day, district.code, d.burst_count,
                                     d.top_streak)
            rows, title = chart_rows(week, [s.code for s in stations],
                                     f"{district.code} {week_start.date()} – {day}")
            if self.charts is not None:
                chart = self.charts.draw(rows, title)
            else:
                png = drawn(rows, title)
                chart = lambda: png  # noqa: E731
            read = _DayRead(stations, week, today, flags, cases.result(), counted.result(),
                            followed.result(), roaming.result())
        return read, chart

    def _day_lines(self, district: District, day: date, lang: str, now: datetime,
                   read: _DayRead) -> tuple[list[Msg], list[tuple[str, bytes]]]:
        """What needs action first, then the numbers; what does not fit one message goes
        in the attached table of stations."""
        stations, week, followed = read.stations, read.week, read.followed
        codes = {s.code for s in stations}
        name = {s.code: (s.name_hi if lang == "hi" else s.name_en) for s in stations}

        def counted(n: int) -> str:
            return self._count(n, lang)

        waiting = actions.waiting(read.cases, now)
        numbers = [self._totals(DAY, [read.today], lang),
                   self._totals(WEEK, [n for c, n in week.items() if c in codes], lang)]
        if cases := actions.cases_line(list(read.case_numbers.values()), lang, counted):
            numbers.append(cases)
        ranks: dict[str, int] = {}
        rankings = self._rankings(stations, week, name, lang, ranks)
        most = self.config.digests.listed_per_kind
        too_few = [name[s.code] for kind in KINDS for s in stations if s.kind == kind
                   and s.code not in ranks and s.code in week]  # incomplete ones only, too
        tail = [Msg.of(TOO_FEW, stations=_listed(too_few, most, counted))] if too_few else []
        if followed.asked or followed.answered:
            tail.append(Msg.of(FOLLOW_UPS, asked=counted(followed.asked),
                               answered=counted(followed.answered),
                               done=counted(followed.action_taken),
                               informed=counted(followed.kept_informed)))
        silent = [name[s.code] for s in stations if s.code not in week]
        if silent:
            tail.append(Msg.of(SILENT, stations=_listed(silent, most, counted)))
        tail += self._flags(*read.flags, read.roaming, name, counted)
        title = Msg.of(TITLE, district=district.name_hi if lang == "hi" else district.name_en,
                       date=format_date(day, format="long", locale=self._locale(lang)))
        listed = self.config.digests.listed_alerts
        while True:  # as many cases as leave room for the rest in the first message
            head = [title, *actions.action_lines(waiting, now, self.config, name, lang,
                                                 listed, counted), *numbers]
            if listed <= 1 or self._fits([*head, Msg(IN_THE_TABLE), *tail], lang):
                break
            listed = max(1, listed - 5)
        # The rankings when they fit; else the line saying the table has them.
        cut = not self._fits([*head, *rankings, *tail], lang)
        lines = [*head, *([Msg(IN_THE_TABLE)] if cut else rankings), *tail]
        documents = []
        if cut or any(m.id == BETWEEN for m in lines) or max(len(too_few), len(silent)) > most:
            documents.append((f"stations-{district.code}-{day.isoformat()}.csv",
                              tables.stations(stations, week, ranks, lang,
                                              read.case_numbers)))
        if len(waiting) > listed:
            documents.append((f"open-cases-{district.code}-{day.isoformat()}.csv",
                              tables.cases(waiting, name, now, self.config.zone)))
        return lines, documents

    def _fits(self, lines: list[Msg], lang: str) -> bool:
        """Do these lines make one Telegram message?"""
        return len(self._rendered(lines, lang)) <= FIRST_MESSAGE

    def _rendered(self, lines: list[Msg], lang: str) -> str:
        return self.catalogs.render(Reply(lang, tuple(lines))) if lines else ""

    def _flags(self, bursts: dict[str, int], streaks: dict[str, int], roaming: int,
               name: dict[str, str], counted: Callable[[int], str]) -> list[Msg]:
        d = self.config.digests
        lines = [Msg.of(BURST, station=name[code], count=counted(n),
                        minutes=str(d.burst_minutes))
                 for code, n in sorted(bursts.items()) if code in name]
        lines += [Msg.of(STREAK, station=name[code], count=counted(n))
                  for code, n in sorted(streaks.items()) if code in name]
        if roaming:
            lines.append(Msg.of(ROAMING, count=counted(roaming),
                                stations=str(d.sender_stations)))
        return lines

    def weekly(self, code: str, last_day: date, lang: str, now: datetime) -> Reply:
        """The in-charge's week: their station against the district, rank, alerts, words."""
        zone = self.config.zone
        end = datetime.combine(last_day + timedelta(days=1), time(0), zone)
        start = end - timedelta(days=7)
        district = next(d for d, s in self.config.stations() if s.code == code)
        week, stations = self._district_week(district.code, last_day)
        with Db(self.engine) as db:
            alerts = store.open_alerts(db, station=code, red=False)  # the in-charge's
            words = store.comments(db, code, start, end)
            cases = list_cases(db, station=code, open_only=True)
            presets = last_instructions(db, [c.case_id for c in cases])
        station = next(s for s in stations if s.code == code)
        name = {s.code: (s.name_hi if lang == "hi" else s.name_en) for s in stations}
        locale = self._locale(lang)
        lines = [Msg.of(WEEK_TITLE, station=name[code],
                        start=format_date(start.date(), format="d MMM", locale=locale),
                        end=format_date(last_day, format="d MMM yyyy", locale=locale))]
        mine = week.get(code, StationNumbers(code))
        lines.append(self._row(YOURS, mine, lang))
        everyone = [n for c, n in week.items() if c in name]
        lines.append(self._totals(DISTRICT, everyone, lang))
        lines.append(self._rank(station, stations, week, lang))
        lines += self._alerts(alerts, name, now, MORE_IN_MENU, lang)
        lines += actions.instruction_lines(cases, presets, self.config, lang,
                                           lambda n: self._count(n, lang))
        if words:
            lines.append(Msg(WROTE))
            lines += [Msg.of(QUOTE, comment=w) for w in words]
        return Reply(lang, tuple(lines))

    def _district_week(self, district: str, last_day: date
                       ) -> tuple[dict[str, StationNumbers], list[StationRow]]:
        key = (district, last_day)
        if key not in self._district_weeks:
            week = rollup.station_numbers(self.engine, last_day - timedelta(days=6), last_day,
                                          self.config.zone, district,
                                          self.config.digests.burst_minutes)
            self._district_weeks[key] = (week, self._read(store.stations, district))
        return self._district_weeks[key]

    def _row(self, msgid: str, n: StationNumbers, lang: str) -> Msg:
        return Msg.of(msgid, complete=self._count(n.complete, lang),
                      behaviour=self._score(n.behaviour, lang),
                      satisfaction=self._score(n.satisfaction, lang),
                      negative=self._share(n.negative_share, lang))

    def _rank(self, station: StationRow, stations: list[StationRow],
              week: dict[str, StationNumbers], lang: str) -> Msg:
        minimum = self.config.digests.min_responses_to_rank
        peers = [week[s.code] for s in stations
                 if s.kind == station.kind and s.code in week and week[s.code].complete >= minimum]
        if station.code not in {p.code for p in peers}:
            return Msg.of(UNRANKED, minimum=str(minimum))
        peers.sort(key=lambda n: (-(n.satisfaction or 0), -(n.behaviour or 0), n.code))
        rank = [p.code for p in peers].index(station.code) + 1
        return Msg.of(RANK, rank=self._count(rank, lang), total=self._count(len(peers), lang))

    def _totals(self, msgid: str, numbers: list[StationNumbers], lang: str) -> Msg:
        total = store.combined(numbers)
        return Msg.of(msgid, complete=self._count(total.complete, lang),
                      incomplete=self._count(total.incomplete, lang),
                      negative=self._count(total.negative, lang) if msgid == DAY
                      else self._share(total.negative_share, lang),
                      completion=self._share(total.completion, lang),
                      behaviour=self._score(total.behaviour, lang),
                      satisfaction=self._score(total.satisfaction, lang))

    def _rankings(self, stations: list[StationRow], week: dict[str, StationNumbers],
                  name: dict[str, str], lang: str, ranks: dict[str, int]) -> list[Msg]:
        """The ranking lines per kind, the best and worst halves when a kind is long;
        each ranked station's place goes into `ranks`."""
        minimum = self.config.digests.min_responses_to_rank
        half = self.config.digests.listed_per_kind // 2
        lines: list[Msg] = []
        for kind in KINDS:
            ranked = [week[s.code] for s in stations if s.kind == kind and s.code in week
                      and week[s.code].complete >= minimum]
            if not ranked:
                continue
            ranked.sort(key=lambda n: (-(n.satisfaction or 0), -(n.behaviour or 0), n.code))
            ranks.update((n.code, i) for i, n in enumerate(ranked, start=1))
            lines.append(Msg.of(RANKED[kind], minimum=str(minimum)))
            shown = list(enumerate(ranked, start=1))
            cut = len(ranked) > 2 * half
            if cut:
                shown = shown[:half] + shown[-half:]
            for i, n in shown:
                lines.append(Msg.of(ROW, n=self._count(i, lang), station=name[n.code],
                                    complete=self._count(n.complete, lang),
                                    behaviour=self._score(n.behaviour, lang),
                                    satisfaction=self._score(n.satisfaction, lang),
                                    negative=self._share(n.negative_share, lang)))
                if cut and i == half:
                    lines.append(Msg.of(BETWEEN, count=self._count(len(ranked) - 2 * half,
                                                                   lang)))
        return lines

    def _alerts(self, alerts: list[OpenAlert], name: dict[str, str],
                now: datetime, more: str, lang: str) -> list[Msg]:
        """The open alerts, the most urgent first; past `digests.listed_alerts`, the
        `more` line says how many others and where to find them."""
        if not alerts:
            return [Msg(NO_ALERTS)]
        # A feedback's alerts are one line, as they were one message, with their reasons.
        rules = {rule.id: rule for rule in self.config.alerts.rules}
        by_feedback: dict[str, list[OpenAlert]] = {}
        for alert in alerts:  # the most urgent first
            by_feedback.setdefault(alert.reference, []).append(alert)
        most = self.config.digests.listed_alerts
        lines = [Msg.of(ALERTS, count=self._count(len(by_feedback), lang))]
        for same in list(by_feedback.values())[:most]:
            alert = same[0]
            hours = int((now - alert.created_at).total_seconds() // 3600)
            sign = marker(alert.severity, alert.status)
            station = name.get(alert.station_code, alert.station_code)
            reasons = ", ".join(rules[a.rule].label(lang) if a.rule in rules else a.rule
                                for a in same)
            lines.append(Msg.of(ALERT_ROW, marker=sign, reference=alert.reference,
                                station=station, reasons=reasons, hours=str(hours)) if hours
                         else Msg.of(ALERT_ROW_FRESH, marker=sign, reference=alert.reference,
                                     station=station, reasons=reasons))
        if len(by_feedback) > most:
            lines.append(Msg.of(more, count=self._count(len(by_feedback) - most, lang)))
        return lines
