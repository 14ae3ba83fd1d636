"""Wiring: config file -> database, survey, catalogs, identity -> the feedback service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session as Db

from conversations.survey import DEFAULT_SURVEY, StationRef, Survey, load_survey
from scheduler.alerts.rules import check_rules
from scheduler.catalogs import Catalogs
from scheduler.config import Config, ConfigError, data_dir, database_url, load_config
from scheduler.identity import load_identity
from scheduler.service import FOLLOW_UP_QUESTION, CitizenLimits, FeedbackService
from storage import feedback as store
from storage.db import keep_statistics, open_engine, upgrade, writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    config: Config
    engine: Engine
    survey: Survey
    catalogs: Catalogs
    service: FeedbackService


def district_survey(config: Config, catalogs: Catalogs, path: Path = DEFAULT_SURVEY) -> Survey:
    """The survey file, plus this deployment's stations, limits and translated labels."""
    survey = load_survey(path)
    labels = {o.label: catalogs.translations_of(o.label)
              for q in survey.questions for o in q.options}
    stations = tuple(StationRef(s.code, s.name_hi, s.name_en) for _, s in config.stations())
    survey = replace(
        survey,
        stations=stations,
        languages=tuple(config.languages),
        idle_timeout=timedelta(minutes=config.sessions.idle_timeout_minutes),
        follow_up_timeout=timedelta(hours=config.follow_ups.answer_within_hours),
        max_comment_chars=config.sessions.max_comment_chars,
        questions=tuple(replace(q, ask_params=(("days", str(config.follow_ups.after_days)),))
                        if "{days}" in q.ask else q for q in survey.questions),
    )
    return survey.with_label_words(labels)


def check_quick_replies(config: Config, survey: Survey, path: Path) -> None:
    """A quick-reply template for a question the survey does not ask is a typo."""
    asked = {q.id for q in survey.questions if q.options}
    for question, by_lang in config.whatsapp.quick_replies.items():
        if question not in asked:
            raise ConfigError(f"{path}: whatsapp.quick_replies.{question}: the survey has no "
                              f"question {question!r} with options; use one of "
                              f"{sorted(asked)}")
        if unknown := sorted(set(by_lang) - set(config.languages)):
            raise ConfigError(f"{path}: whatsapp.quick_replies.{question}.{unknown[0]}: not one of "
                              f"`languages` {config.languages}")


def open_database(config: Config) -> Engine:
    """The database, migrated to the current schema, with the stations of config.yaml."""
    engine = open_engine(database_url(config))
    before, after = upgrade(engine)
    if before != after:
        log.info("database schema %s -> %s", before or "empty", after)
    with Db(writer(engine)) as db, db.begin():
        store.sync_stations(db, ((d.code, s) for d, s in config.stations()))
    keep_statistics(engine)
    return engine


def build_app(config_file: Path) -> App:
    config = load_config(config_file)
    catalogs = Catalogs.load(config.languages)
    survey = district_survey(config, catalogs)
    check_rules(config, survey)
    check_quick_replies(config, survey, config_file)
    engine = open_database(config)
    identity = load_identity(data_dir(config), database_url(config))
    # A week later a WhatsApp citizen's 24-hour window is closed: without the approved
    # follow-up template they could not be asked, so they are not offered it.
    unasked = ({"whatsapp": [FOLLOW_UP_QUESTION]}
               if not config.whatsapp.templates.get("follow_up") else {})
    service = FeedbackService(
        engine, survey, identity, config.default_language,
        timedelta(hours=config.sessions.update_window_hours), config.zone,
        config.alerts.rules, unasked,
        CitizenLimits(config.sessions.max_messages_per_minute,
                      config.sessions.max_new_feedback_per_hour),
    )
    return App(config, engine, survey, catalogs, service)
