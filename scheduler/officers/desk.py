"""The officers' desk: enrolment by one-time link, and a small menu for enrolled officers.

Channel-neutral: answers are Replies, rendered by the channel like a citizen's.
Only counts and reference numbers are shown; never who gave a feedback.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from babel.numbers import format_decimal
from sqlalchemy import Engine
from sqlmodel import Session as Db

from conversations.effects import Choice, Event, Msg, Reply
from conversations.messages import LANGUAGE_SET, N_
from scheduler.alerts.acknowledge import ALERT_QUESTION, ack_option, acknowledge
from scheduler.alerts.message import marker
from scheduler.cases import chat
from scheduler.cases.list import open_cases
from scheduler.config import Config
from scheduler.visit_time import busy, when
from storage import digest
from storage import officers as store
from storage.db import writer
from storage.digest import OpenAlert
from storage.models import Officer

OFFICER_QUESTION = "_officer"
COMMANDS = ("menu", "today", "alerts", "cases", "comments", "language")

WELCOME = N_("Welcome, {name}. You are enrolled as {role} for {scope}.")
WELCOME_UNNAMED = N_("Welcome. You are enrolled as {role} for {scope}.")  # no --name given
ROLE_NAMES = {"in_charge": N_("station in-charge"), "sdop": N_("SDOP"),
              "sp_office": N_("SP office")}
# A chowki's in-charge is a "चौकी प्रभारी", not a "थाना प्रभारी"; an office's likewise.
IN_CHARGE_OF = {"thana": ROLE_NAMES["in_charge"], "chowki": N_("chowki in-charge"),
                "office": N_("office in-charge")}
LINK_USED = N_("This invitation link has already been used. Ask the SP office for a new one.")
LINK_EXPIRED = N_("This invitation link has expired. Ask the SP office for a new one.")
LINK_UNKNOWN = N_("This invitation link is not valid. Ask the SP office for a new one.")
OFFICERS_ONLY = N_("Sorry, this is only for enrolled police officers. To give feedback, "
                   "scan the QR code at the police station.")
MENU = N_("What would you like to see?")
MENU_TODAY = N_("Today's numbers")
MENU_ALERTS = N_("Open alerts")
MENU_ALERTS_LISTED = 10  # one phone screen
MENU_CASES = N_("Cases to act on")
MENU_COMMENTS = N_("What citizens wrote")
MENU_COMMENTS_LISTED = 10
COMMENTS_DAYS = 7
MENU_LANGUAGE = N_("Language: हिंदी / English")
TODAY = N_("Today, {scope}:\n"
           "Feedback completed: {complete}\n"
           "Left incomplete: {incomplete}\n"
           "Staff behaviour (1-5): {behaviour}\n"
           "Overall experience (1-5): {satisfaction}\n"
           "Negative: {negative}")
NO_ALERTS = N_("No open alerts.")
COMMENTS = N_("What citizens wrote in the last 7 days, {scope}:")
NO_COMMENTS = N_("No comments in the last 7 days.")
QUOTE = N_("“{comment}”")
STATION_QUOTE = N_("{station}: “{comment}”")
ALERTS = N_("Open alerts: {count}")
ALERT_LINE = N_("{marker} {reference} · {station} · {day}")
ACK_LISTED = N_("Acknowledge {reference}")
NOT_YET = N_("none yet")


class OfficerDesk:
    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine, self.config = writer(engine), config

    def enrol(self, urn: str, token: str, now: datetime) -> list[Reply]:
        lang = self.config.default_language
        with Db(self.engine) as db, db.begin():
            result = store.redeem(db, token, urn, lang, now)
            officer = result.officer
            if officer is None:
                msgid = {"used": LINK_USED, "expired": LINK_EXPIRED}.get(result.outcome,
                                                                         LINK_UNKNOWN)
                return [Reply(lang, (Msg(msgid),))]
            role, scope = Msg(self._role_name(officer)), self._scope_name(officer,
                                                                          officer.language)
            welcome = (Msg.of(WELCOME, name=officer.name, role=role, scope=scope)
                       if officer.name.strip() else
                       Msg.of(WELCOME_UNNAMED, role=role, scope=scope))
            return [Reply(officer.language, (welcome,)), self._menu(officer)]

    def enrolled(self, channel: str) -> set[str]:
        with Db(self.engine) as db:
            return store.enrolled_urns(db, channel)

    def command(self, urn: str, name: str, now: datetime) -> list[Reply]:
        """An officer's command or menu tap; anyone else gets a polite refusal."""
        with Db(self.engine) as db, db.begin():
            self._leave_steps(db, urn, name)
            officer = store.officer_of(db, urn)
            if name in ("send", "cancel"):  # the role whose step waits, if one does
                officer = self._waiting(db, urn, now) or officer
            if officer is None:
                return [Reply(self.config.default_language, (Msg(OFFICERS_ONLY),))]
            if name == "language":
                officer.language = "en" if officer.language == "hi" else "hi"
                return [Reply(officer.language, (Msg(LANGUAGE_SET),)), self._menu(officer)]
            if name == "today":
                return [self._today(db, officer, now)]
            if name == "alerts":
                return [self._alerts(db, officer)]
            if name == "comments":
                return [self._comments(db, officer, now)]
            if name == "cases":
                return [open_cases(db, officer, self.config)]
            if name == "send" and (sent := chat.send_as_is(db, officer, now,
                                                           self.config.cases)):
                return [sent]
            if name == "cancel" and chat.waiting(officer, now):
                return [chat.forget(officer), self._menu(officer)]
            return [self._menu(officer)]

    def _leave_steps(self, db: Db, urn: str, name: str) -> None:
        """Another command leaves a step waiting for words: it is given up, not taken
        with whatever the officer writes next."""
        if name not in ("send", "cancel"):
            for officer in store.officers_at(db, urn):
                officer.pending, officer.pending_at = None, None

    def case_tap(self, urn: str, option: str, now: datetime) -> list[Reply]:
        """A button of a case (or its word on WhatsApp): a step begins, or is taken."""
        with Db(self.engine) as db, db.begin():
            officer = chat.acting(db, store.officers_at(db, urn), option, now)
            if officer is None:
                return [Reply(self.config.default_language, (Msg(OFFICERS_ONLY),))]
            return [chat.tapped(db, officer, option, now, self.config.cases)]

    def message(self, urn: str, event: Event, now: datetime) -> list[Reply]:
        """An officer's message that is no command: the words of the step waiting for
        them, or else the menu."""
        with Db(self.engine) as db, db.begin():
            if (waiting := self._waiting(db, urn, now)) is not None:
                return [chat.wrote(db, waiting, event, now, self.config.cases)]
            self._leave_steps(db, urn, "menu")  # a step left waiting too long is forgotten
            officer = store.officer_of(db, urn)
            if officer is None:
                return [Reply(self.config.default_language, (Msg(OFFICERS_ONLY),))]
            return [self._menu(officer)]

    def _waiting(self, db: Db, urn: str, now: datetime) -> Officer | None:
        """The role of this chat whose step waits for its next message, if any."""
        return next((o for o in store.officers_at(db, urn) if chat.waiting(o, now)), None)

    def acknowledge(self, urn: str, alert_id: int, now: datetime) -> list[Reply]:
        """An officer's tap on an alert's button."""
        with Db(self.engine) as db, db.begin():
            officer = store.officer_of(db, urn)
            if officer is None:
                return [Reply(self.config.default_language, (Msg(OFFICERS_ONLY),))]
            return [acknowledge(db, alert_id, officer, now)]

    def _menu(self, officer: Officer) -> Reply:
        choices = (Choice("today", 1, Msg(MENU_TODAY)), Choice("alerts", 2, Msg(MENU_ALERTS)),
                   Choice("cases", 3, Msg(MENU_CASES)),
                   Choice("comments", 4, Msg(MENU_COMMENTS)),
                   Choice("language", 5, Msg(MENU_LANGUAGE)))
        return Reply(officer.language, (Msg(MENU),), choices, OFFICER_QUESTION)

    def _role_name(self, officer: Officer) -> str:
        station = self.config.station(officer.scope) if officer.role == "in_charge" else None
        return IN_CHARGE_OF[station.kind] if station else ROLE_NAMES[officer.role]

    def _scope_name(self, officer: Officer, lang: str) -> str:
        if officer.role == "in_charge":
            return self._station_name(officer.scope, lang)
        if officer.role == "sdop":
            found = next((s for d in self.config.districts for s in d.subdivisions
                          if s.code == officer.scope), None)
            return (found.name_hi if lang == "hi" else found.name_en) if found else ""
        district = next((d for d in self.config.districts if d.code == officer.scope), None)
        return (district.name_hi if lang == "hi" else district.name_en) if district else ""

    def _station_name(self, code: str, lang: str) -> str:
        station = self.config.station(code)
        return (station.name_hi if lang == "hi" else station.name_en) if station else code

    def _number(self, value: float | None, lang: str) -> str | Msg:
        if value is None:
            return Msg(NOT_YET)
        return format_decimal(value, format="0.0", locale="hi_IN" if lang == "hi" else "en_IN")

    def _today(self, db: Db, officer: Officer, now: datetime) -> Reply:
        zone = self.config.zone
        start = datetime.combine(now.astimezone(zone).date(), time(0), zone)
        mine = set(store.station_codes(db, officer))
        numbers = digest.combined([n for code, n in digest.station_numbers(
            db, start, start + timedelta(days=1)).items() if code in mine])
        lang = officer.language
        line = Msg.of(TODAY, scope=self._scope_name(officer, lang),
                      complete=str(numbers.complete), incomplete=str(numbers.incomplete),
                      behaviour=self._number(numbers.behaviour, lang),
                      satisfaction=self._number(numbers.satisfaction, lang),
                      negative=str(numbers.negative))
        return Reply(lang, (line,))

    def _comments(self, db: Db, officer: Officer, now: datetime) -> Reply:
        """The week's comments, negative first. Only the SP office sees those of a
        feedback that reported a demand: the station may be its subject."""
        lang, since = officer.language, now - timedelta(days=COMMENTS_DAYS)
        in_charge = officer.role == "in_charge"
        found = digest.station_comments(db, store.station_codes(db, officer), since, now,
                                        MENU_COMMENTS_LISTED, red=officer.role == "sp_office")
        if not found:
            return Reply(lang, (Msg(NO_COMMENTS),))
        lines = [Msg.of(COMMENTS, scope=self._scope_name(officer, lang))]
        for code, comment in found:
            if in_charge:
                lines.append(Msg.of(QUOTE, comment=comment))
            else:
                lines.append(Msg.of(STATION_QUOTE, station=self._station_name(code, lang),
                                    comment=comment))
        return Reply(lang, tuple(lines))

    def _alerts(self, db: Db, officer: Officer) -> Reply:
        if officer.role == "in_charge":  # never the SP office's red alerts
            found = digest.open_alerts(db, station=officer.scope, red=False)
        elif officer.role == "sdop":  # his subdivision's, to see; the stations act on them
            mine = set(store.station_codes(db, officer))
            found = [a for a in digest.open_alerts(db, red=False) if a.station_code in mine]
        else:
            found = digest.open_alerts(db, district=officer.scope)
        # A feedback's alerts are one line, as they were one message: acknowledging it
        # acknowledges them all (scheduler/alerts/acknowledge.py).
        first: dict[str, OpenAlert] = {}
        for alert in found:  # the most urgent first
            first.setdefault(alert.reference, alert)
        found = list(first.values())
        if not found:
            return Reply(officer.language, (Msg(NO_ALERTS),))
        # How many there are, and the most urgent of them: as the digests list them.
        lang = officer.language
        locale = "hi_IN" if lang == "hi" else "en_IN"
        lines = [Msg.of(ALERTS, count=format_decimal(len(found), locale=locale))]
        zone, listed = self.config.zone, found[:MENU_ALERTS_LISTED]
        exact = officer.role != "in_charge" or busy(
            db, officer.scope, listed[0].created_at, self.config.alerts.exact_time_from_weekly)
        for alert in listed:
            day = when(alert.created_at, zone, exact)
            lines.append(Msg.of(ALERT_LINE, marker=marker(alert.severity, alert.status),
                                reference=alert.reference, day=day,
                                station=self._station_name(alert.station_code, lang)))
        # Each acknowledged from the list, as from the alert itself: a button on Telegram,
        # "ack N" on WhatsApp.
        acks = tuple(Choice(ack_option(alert.id), n, Msg.of(ACK_LISTED, reference=alert.reference))
                     for n, alert in enumerate(listed, start=1)) if officer.role != "sdop" else ()
        return Reply(lang, tuple(lines), acks, ALERT_QUESTION)
