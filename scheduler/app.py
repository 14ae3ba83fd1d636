"""What every feature is handed: the district's config, its database, the survey as
this district asks it, the catalogs and the turn service. Built once, by bot/app.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from scheduler.config import Config
from scheduler.service import FeedbackService


@dataclass(frozen=True)
class App:
    config: Config
    engine: Engine
    survey: Survey
    catalogs: Catalogs
    service: FeedbackService
