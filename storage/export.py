"""Feedback rows for export: one per feedback, answers attached, never an identity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, Select, func, select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Alert, Answer, AnswerVersion, Feedback, Station

BATCH = 500


@dataclass
class ExportRow:
    reference: str
    station_code: str
    station_hi: str
    station_en: str
    district: str
    channel: str
    language: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    updated_at: datetime
    answers: dict[str, Answer] = field(default_factory=dict)
    # (rule, status, acknowledged at) of each alert it raised, in the order raised
    alerts: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    earlier_versions: int = 0  # answer sets an update replaced, kept (storage/feedback.py)


def _query(since: datetime | None, until: datetime | None,
           station: str | None) -> Select[Feedback, Station]:
    query = (
        select(Feedback, Station)
        .join(Station, col(Station.code) == col(Feedback.station_code))
        .where(col(Feedback.status) != "merged")
    )
    if since is not None:
        query = query.where(col(Feedback.started_at) >= since)
    if until is not None:
        query = query.where(col(Feedback.started_at) < until)
    if station is not None:
        query = query.where(func.upper(col(Feedback.station_code)) == station.upper())
    return query


def count_rows(engine: Engine, since: datetime | None, until: datetime | None,
               station: str | None) -> int:
    with Db(engine) as db:
        inner = _query(since, until, station).subquery()
        return int(db.execute(select(func.count()).select_from(inner)).scalar_one())


def export_rows(engine: Engine, since: datetime | None = None, until: datetime | None = None,
                station: str | None = None) -> Iterator[ExportRow]:
    """Feedback in `[since, until)`, oldest first, fetched in batches."""
    last_id = 0
    with Db(engine) as db:
        while True:
            batch = db.execute(
                _query(since, until, station).where(col(Feedback.id) > last_id)
                .order_by(col(Feedback.id)).limit(BATCH)
            ).all()
            if not batch:
                return
            ids = [f.id for f, _ in batch]
            answers: dict[int, dict[str, Answer]] = {}
            for answer in db.execute(select(Answer)
                                     .where(col(Answer.feedback_id).in_(ids))).scalars():
                answers.setdefault(answer.feedback_id, {})[answer.question_id] = answer
            alerts: dict[int, list[tuple[str, str, datetime | None]]] = {}
            for alert in db.execute(select(Alert).where(col(Alert.feedback_id).in_(ids))
                                    .order_by(col(Alert.id))).scalars():
                alerts.setdefault(alert.feedback_id, []).append(
                    (alert.rule, alert.status, alert.acknowledged_at))
            versions: dict[int, int] = {fid: n for fid, n in db.execute(
                select(col(AnswerVersion.feedback_id),
                       func.count(func.distinct(col(AnswerVersion.version))))
                .where(col(AnswerVersion.feedback_id).in_(ids))
                .group_by(col(AnswerVersion.feedback_id))).all()}
            for fb, st in batch:
                assert fb.id is not None
                yield ExportRow(
                    reference=fb.reference, station_code=fb.station_code, station_hi=st.name_hi,
                    station_en=st.name_en, district=st.district_code, channel=fb.channel,
                    language=fb.language, status=fb.status, started_at=fb.started_at,
                    completed_at=fb.completed_at, updated_at=fb.updated_at,
                    answers=answers.get(fb.id, {}), alerts=alerts.get(fb.id, []),
                    earlier_versions=versions.get(fb.id, 0),
                )
            last_id = ids[-1]
