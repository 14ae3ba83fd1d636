"""Officers: one-time enrolment links, who is enrolled, and the numbers they may see."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Enrolment, Officer, Station

TOKEN_PREFIX = "enrol_"
ROLES = ("in_charge", "sdop", "sp_office")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(payload: str) -> bool:
    return payload.startswith(TOKEN_PREFIX)


def invite(db: Db, role: str, scope: str, name: str, now: datetime, valid: timedelta) -> str:
    """A new one-time token (only its hash is stored); it fits a Telegram deep link."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    db.add(Enrolment(token_hash=_hash(token), role=role, scope=scope, name=name,
                     created_at=now, expires_at=now + valid))
    return token


@dataclass(frozen=True)
class Redeemed:
    outcome: str  # enrolled | used | expired | unknown
    officer: Officer | None = None


def redeem(db: Db, token: str, urn: str, language: str, now: datetime) -> Redeemed:
    enrolment = db.get(Enrolment, _hash(token), with_for_update=True)
    if enrolment is None:
        return Redeemed("unknown")
    if enrolment.used_at is not None:
        # The same officer's link delivered twice (a restart mid-turn): welcome again.
        earlier = db.get(Officer, enrolment.officer_id) if enrolment.officer_id else None
        if earlier is not None and earlier.urn == urn and earlier.active:
            return Redeemed("enrolled", earlier)
        return Redeemed("used")
    if enrolment.expires_at <= now:
        return Redeemed("expired")
    officer = db.execute(select(Officer).where(
        col(Officer.urn) == urn, col(Officer.role) == enrolment.role,
        col(Officer.scope) == enrolment.scope)).scalar_one_or_none()
    if officer is None:
        officer = Officer(urn=urn, name=enrolment.name, role=enrolment.role,
                          scope=enrolment.scope, language=language, enrolled_at=now)
        db.add(officer)
    officer.active, officer.name = True, enrolment.name or officer.name
    db.flush()
    enrolment.used_at, enrolment.officer_id = now, officer.id
    return Redeemed("enrolled", officer)


def officer_of(db: Db, urn: str) -> Officer | None:
    """The enrolled officer behind a chat, SP office role first when both exist."""
    return next(iter(officers_at(db, urn)), None)


def officers_at(db: Db, urn: str) -> list[Officer]:
    """Every role enrolled on one chat (an in-charge of two stations, or one who is also
    the SP office's), the SP office first."""
    rows = db.execute(select(Officer).where(col(Officer.urn) == urn,
                                            col(Officer.active))).scalars().all()
    return sorted(rows, key=lambda o: (o.role != "sp_office", o.id))


def station_codes(db: Db, officer: Officer) -> list[str]:
    """The stations an officer may see: their own, their subdivision's for an SDOP, or
    their district's for the SP office."""
    if officer.role == "in_charge":
        return [officer.scope]
    if officer.role == "sdop":
        return list(db.execute(select(col(Station.code))
                               .where(col(Station.subdivision_code) == officer.scope)).scalars())
    return list(db.execute(select(col(Station.code))
                           .where(col(Station.district_code) == officer.scope)).scalars())


def enrolled_urns(db: Db, channel: str) -> set[str]:
    """Every active officer's address on one channel ("whatsapp")."""
    return set(db.execute(select(col(Officer.urn)).where(
        col(Officer.active), col(Officer.urn).startswith(f"{channel}:"))).scalars())


def officers_for(db: Db, roles: Iterable[str], station_code: str) -> list[Officer]:
    """The in-charges of the station, the SDOP of its subdivision and/or the SP office of
    its district."""
    district = district_of(db, station_code)
    wanted: list[ColumnElement[bool]] = []
    if "in_charge" in roles:
        wanted.append((col(Officer.role) == "in_charge") & (col(Officer.scope) == station_code))
    if "sdop" in roles and (subdivision := db.execute(select(col(Station.subdivision_code))
                                                      .where(col(Station.code) == station_code)
                                                      ).scalar_one_or_none()):
        wanted.append((col(Officer.role) == "sdop") & (col(Officer.scope) == subdivision))
    if "sp_office" in roles:
        wanted.append((col(Officer.role) == "sp_office") & (col(Officer.scope) == district))
    if not wanted:
        return []
    return list(db.execute(select(Officer).where(col(Officer.active), or_(*wanted))).scalars())


def district_of(db: Db, station_code: str) -> str:
    return db.execute(select(col(Station.district_code)).where(
        col(Station.code) == station_code)).scalar_one()


def officers_of_district(db: Db, district: str) -> list[Officer]:
    return list(db.execute(select(Officer).where(
        col(Officer.active), col(Officer.role) == "sp_office",
        col(Officer.scope) == district)).scalars())


def in_charges(db: Db) -> list[Officer]:
    return list(db.execute(select(Officer).where(col(Officer.active),
                                                 col(Officer.role) == "in_charge")).scalars())
