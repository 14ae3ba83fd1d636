"""The SP office's web console, served by `prayas serve` under `console.path`: signing
in and out, and the overview of what needs action first. Server-rendered (Jinja2), no
script, no CDN: the Devanagari font ships with Prayas.

Every form carries a CSRF token: the session's, or before signing in a random one also
set as a cookie. Cookies are HttpOnly, SameSite=Lax, and Secure except on loopback.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.office import accounts, words
from bot.posters.fonts import FONT_DIR
from conversations.effects import Msg, Reply
from scheduler.app import App
from scheduler.cases.chat import REFUSED
from scheduler.cases.list import STATES
from scheduler.cases.steps import ConsoleActor, Step, take
from scheduler.digests import actions
from storage import console as store
from storage import digest, recordings
from storage.cases import CaseFile, case_file, list_cases
from storage.db import writer
from storage.feedback import by_reference, versions_of
from storage.models import Answer, ConsoleUser, Feedback, FeedbackCase, Officer

HERE = Path(__file__).parent
SESSION_COOKIE, LOGIN_COOKIE, LANG_COOKIE = "prayas_console", "prayas_login", "prayas_lang"
ADDRESS_TRIES, ADDRESS_WINDOW = 20, 15 * 60.0  # sign-in attempts per address, seconds
LISTED = 50  # cases on the overview; the cases queue (to come) has them all
MAX_FORM = 4096  # a sign-in form is small; anything bigger is refused unread
Clock = Callable[[], datetime]
REFERENCE = re.compile(r"FB-[0-9]{2}-[0-9]{6}")


def _now() -> datetime:
    return datetime.now(UTC)


class Office:
    def __init__(self, app: App, root: str, clock_: Clock = _now) -> None:
        self.app, self.root, self.clock = app, root.rstrip("/"), clock_
        self.engine = writer(app.engine)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self._tries: dict[str, list[float]] = {}  # address: monotonic times of failures

    def routes(self) -> list[Route | Mount]:
        return [Route(self.root + "/", self.overview, methods=["GET"]),
                Route(self.root + "/login", self.login_page, methods=["GET"]),
                Route(self.root + "/login", self.login, methods=["POST"]),
                Route(self.root + "/logout", self.logout, methods=["POST"]),
                Route(self.root + "/feedback/{reference}", self.feedback, methods=["GET"]),
                Route(self.root + "/feedback/{reference}/voice", self.voice, methods=["GET"]),
                Route(self.root + "/feedback/{reference}/step", self.step, methods=["POST"]),
                Mount(self.root + "/static/fonts", StaticFiles(directory=str(FONT_DIR))),
                Mount(self.root + "/static", StaticFiles(directory=str(HERE / "static")))]

    # ---- pages ------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        found = await run_in_threadpool(self._session, request)
        if found is None:
            return RedirectResponse(self.root + "/login", status_code=303)
        user, csrf = found
        lang = self._lang(request)
        waiting, today = await run_in_threadpool(self._overview, user, lang)
        return self._page(request, "overview.html", lang, user=user, csrf=csrf,
                          waiting=waiting, today=today)

    async def feedback(self, request: Request) -> Response:
        """A feedback: every answer and every earlier set an update replaced, its voice
        note to play, its case's steps. Each view is in the audit log."""
        found = await run_in_threadpool(self._session, request)
        if found is None:
            return RedirectResponse(self.root + "/login", status_code=303)
        user, csrf = found
        lang = self._lang(request)
        page = await run_in_threadpool(self._feedback, user, request.path_params["reference"],
                                       lang)
        if isinstance(page, str):  # why not: a clear page in the account's language
            return self._page(request, "refused.html", lang, user=user, csrf=csrf,
                              message=page, status=404 if page == words.NOT_FOUND else 403)
        return self._page(request, "feedback.html", lang, user=user, csrf=csrf, **page)

    async def step(self, request: Request) -> Response:
        """Instruct, close or return a case from its feedback's page: the SP office's
        accounts only, through the same code as the chat and the CLI."""
        form = await self._form(request)
        found = await run_in_threadpool(self._session, request)
        lang = self._lang(request)
        if found is None or form is None or not secrets.compare_digest(
                form.get("csrf", ""), found[1]):
            return self._page(request, "refused.html", lang, message=words.REFUSED,
                              status=403)
        user, csrf = found
        if user.role != "sp_office":
            return self._page(request, "refused.html", lang, user=user, csrf=csrf,
                              message=words.READ_ONLY, status=403)
        reference = request.path_params["reference"]
        why = await run_in_threadpool(self._step, user, reference, form)
        if why is not None:
            page = await run_in_threadpool(self._feedback, user, reference, lang)
            if isinstance(page, str):
                return self._page(request, "refused.html", lang, user=user, csrf=csrf,
                                  message=page, status=404 if page == words.NOT_FOUND
                                  else 403)
            return self._page(request, "feedback.html", lang, user=user, csrf=csrf,
                              error=why, status=409, **page)
        return RedirectResponse(f"{self.root}/feedback/{reference}", status_code=303)

    def _step(self, user: ConsoleUser, reference: str, form: dict[str, str]) -> str | None:
        """None when taken; else the msgid saying why not (nothing changed)."""
        verb = form.get("verb", "")
        if verb not in ("instruct", "close", "return"):
            return words.NOT_FOUND
        with Db(self.engine) as db, db.begin():
            feedback = self._visible(db, user, reference)
            if isinstance(feedback, str):
                return feedback
            found = case_file(db, feedback.reference)
            case = db.get(FeedbackCase, found.case.id, with_for_update=True) if found else None
            if case is None:
                return words.NOT_FOUND
            actor = ConsoleActor("sp_office", self.app.config.district_of(
                case.station_code) or "", user.id or 0)
            step = Step(verb, form.get("preset") or None,  # type: ignore[arg-type]
                        form.get("text", "").strip()[:2000])
            outcome = take(db, case, actor, step, self.clock(), self.app.config.cases)
            if outcome != "done":  # refused before anything was written
                return REFUSED[outcome]
            store.audit(db, self.clock(), user.id, f"step:{verb}", feedback.reference)
        return None

    async def voice(self, request: Request) -> Response:
        found = await run_in_threadpool(self._session, request)
        if found is None:
            return Response(status_code=403)
        body = await run_in_threadpool(self._voice, found[0], request.path_params["reference"])
        if isinstance(body, str):
            return self._page(request, "refused.html", self._lang(request), user=found[0],
                              csrf=found[1], message=body, status=404)
        content_type, data = body
        return Response(data, media_type=content_type or "audio/ogg",
                        headers={"Cache-Control": "private, no-store"})

    async def login_page(self, request: Request, error: str | None = None,
                         status: int = 200, name: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = self._page(request, "login.html", self._lang(request), csrf=token,
                              error=error, name=name, status=status)
        self._cookie(request, response, LOGIN_COOKIE, token, 3600)
        return response

    async def login(self, request: Request) -> Response:
        form = await self._form(request)
        if form is None or not secrets.compare_digest(
                form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE, "") or "-"):
            return await self.login_page(request, words.EXPIRED_FORM, 400)
        address = request.client.host if request.client else ""
        name = form.get("name", "")[:64]
        if self._too_many(address):
            return await self.login_page(request, words.SLOW_DOWN, 429, name)
        done = await run_in_threadpool(self._sign_in, name, form.get("password", "")[:200])
        if done.outcome != "signed_in":
            self._tries.setdefault(address, []).append(time.monotonic())
            error = words.LOCKED if done.outcome == "locked" else words.WRONG
            return await self.login_page(request, error, 403 if done.outcome == "locked"
                                         else 401, name)
        response = RedirectResponse(self.root + "/", status_code=303)
        self._cookie(request, response, SESSION_COOKIE, done.token,
                     int(accounts.SESSION_FOR.total_seconds()))
        response.delete_cookie(LOGIN_COOKIE, path=self.root)
        return response

    async def logout(self, request: Request) -> Response:
        form = await self._form(request)
        found = await run_in_threadpool(self._session, request)
        if found is None or form is None or not secrets.compare_digest(
                form.get("csrf", ""), found[1]):
            return self._page(request, "refused.html", self._lang(request),
                              message=words.REFUSED, status=403)
        await run_in_threadpool(self._sign_out, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse(self.root + "/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=self.root)
        return response

    # ---- the database -------------------------------------------------------------------

    def _session(self, request: Request) -> tuple[ConsoleUser, str] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        with Db(self.engine) as db:
            found = store.session_of(db, token, self.clock())
            if found is None:
                return None
            session, user = found
            db.expunge(user)
            return user, session.csrf

    def _sign_in(self, name: str, password: str) -> accounts.SignIn:
        with Db(self.engine) as db, db.begin():
            return accounts.sign_in(db, name, password, self.clock())

    def _sign_out(self, token: str) -> None:
        with Db(self.engine) as db, db.begin():
            found = store.session_of(db, token, self.clock())
            if found is not None:
                found[0].revoked_at = self.clock()
                store.audit(db, self.clock(), found[1].id, "signed_out")

    def _visible(self, db: Db, user: ConsoleUser, reference: str) -> Feedback | str:
        """The feedback, if this account may read it; else why not."""
        if not REFERENCE.fullmatch(reference.strip().upper()):
            return words.NOT_FOUND
        feedback = by_reference(db, reference)
        if feedback is None or feedback.status != "complete":
            return words.NOT_FOUND
        if user.district and self.app.config.district_of(feedback.station_code) != user.district:
            return words.NOT_YOURS
        return feedback

    def _feedback(self, user: ConsoleUser, reference: str, lang: str) -> dict[str, Any] | str:
        # Read after the commit that writes the audit entry: not expired by it.
        with Db(self.engine, expire_on_commit=False) as db, db.begin():
            feedback = self._visible(db, user, reference)
            if isinstance(feedback, str):
                return feedback
            store.audit(db, self.clock(), user.id, "viewed", feedback.reference)
            answers = list(db.execute(select(Answer).where(
                col(Answer.feedback_id) == feedback.id)).scalars())
            earlier = versions_of(db, feedback.id or 0)
            found = case_file(db, feedback.reference)
            names = {o.id: o.name or o.role for o in db.execute(select(Officer)).scalars()}
            at_console = {u.id: u.name for u in db.execute(select(ConsoleUser)).scalars()}
        station = self.app.config.station(feedback.station_code)
        zone, voice = self.app.config.zone, f"{self.root}/feedback/{feedback.reference}/voice"
        steps = [" · ".join(part for part in (
            f"{e.at.astimezone(zone):%d-%m-%Y %H:%M}",
            self._t(lang, words.STEPS[e.event]) if e.event in words.STEPS else e.event,
            names.get(e.officer_id, "") if e.officer_id
            else at_console.get(e.console_user_id, "") if e.console_user_id else "",
            e.text or "") if part)
            for e in (found.events if found else [])]
        return {"reference": feedback.reference,
                "station": (station.name_hi if lang == "hi" else station.name_en)
                if station else feedback.station_code,
                "given": f"{feedback.completed_at.astimezone(zone):%d-%m-%Y %H:%M}"
                if feedback.completed_at else "",
                "answers": self._answers(answers, lang, voice),
                "earlier": [(n, self._answers(rows, lang, "")) for n, rows in earlier.items()],
                "case": self._t(lang, words.CASE, state=Msg(STATES.get(
                    found.case.state, found.case.state))) if found else "",
                "steps": steps, "actions": self._actions(user, found),
                "presets": [(p.id, p.label(lang)) for p in self.app.config.cases.presets]}

    def _actions(self, user: ConsoleUser, found: CaseFile | None) -> list[tuple[str, str]]:
        """The forms this account may use on this case (a reader's: none)."""
        if user.role != "sp_office" or found is None or found.case.state == "closed":
            return []
        forms = [] if found.case.red else [("instruct", words.INSTRUCT)]
        if found.case.state == "reported":
            forms.append(("return", words.RETURN))
        return [*forms, ("close", words.CLOSE)]

    def _answers(self, answers: list[Any], lang: str, voice: str
                 ) -> list[tuple[str, str, str]]:
        """(question, answer, the voice note's address) in the survey's order."""
        by_question = {a.question_id: a for a in answers}
        rows = []
        for question in self.app.survey.every_question:
            a = by_question.get(question.id)
            if a is None:
                continue
            option = question.option(a.option_id or "")
            said = (self._t(lang, words.SKIPPED) if a.skipped else
                    self._t(lang, Msg(option.label)) if option else a.text or "")
            rows.append((self._t(lang, question.prompt), said,
                         voice if a.voice_ref and voice else ""))
        return rows

    def _voice(self, user: ConsoleUser, reference: str) -> tuple[str, bytes] | str:
        with Db(self.engine) as db, db.begin():
            feedback = self._visible(db, user, reference)
            if isinstance(feedback, str):
                return feedback
            ref = db.execute(select(col(Answer.voice_ref)).where(
                col(Answer.feedback_id) == feedback.id,
                col(Answer.voice_ref).is_not(None))).scalars().first()
            kept = recordings.find(db, ref) if ref else None
            if kept is None or kept.body is None:
                return words.NOT_FETCHED
            store.audit(db, self.clock(), user.id, "listened", feedback.reference)
            return kept.content_type, kept.body

    def _overview(self, user: ConsoleUser, lang: str) -> tuple[list[tuple[str, str]], str]:
        config, now = self.app.config, self.clock()
        districts = [d for d in config.districts if user.district in (None, d.code)]
        start = datetime.combine(now.astimezone(config.zone).date(), clock(0), config.zone)
        with Db(self.engine) as db:
            rows = [r for d in districts for r in list_cases(db, district=d.code,
                                                                 open_only=True)]
            numbers = digest.station_numbers(db, start, start + timedelta(days=1))
        codes = {s.code for d in districts for s in d.stations}
        name = {s.code: (s.name_hi if lang == "hi" else s.name_en)
                for d in districts for s in d.stations}
        waiting = actions.waiting(rows, now)[:LISTED]
        lines = actions.action_lines(waiting, now, config, name, lang, LISTED, str)
        total = digest.combined([n for code, n in numbers.items() if code in codes])
        today = self._t(lang, words.TODAY, complete=str(total.complete),
                        incomplete=str(total.incomplete), negative=str(total.negative))
        # Each case's line, and its feedback's reference for the link to its page.
        listed = [(row.reference, self._t(lang, line))
                  for row, line in zip(waiting, lines[1:], strict=False)]
        return listed, today

    # ---- the web's details --------------------------------------------------------------

    def _t(self, lang: str, msgid: str | Msg, **params: Any) -> str:
        line = msgid if isinstance(msgid, Msg) else Msg.of(msgid, **params)
        return self.app.catalogs.render(Reply(lang, (line,)))

    def _lang(self, request: Request) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "")
        return asked if asked in self.app.config.languages else self.app.config.default_language

    def _page(self, request: Request, template: str, lang: str, status: int = 200,
              **context: Any) -> Response:
        context = {"lang": lang, "root": self.root, "words": words, "user": None,
                   "t": lambda msgid, **p: self._t(lang, msgid, **p), **context}
        response = self.templates.TemplateResponse(request, template, context,
                                                   status_code=status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "default-src 'self'"
        if request.query_params.get("lang") == lang:
            self._cookie(request, response, LANG_COOKIE, lang, 365 * 86400)
        return response

    def _cookie(self, request: Request, response: Response, name: str, value: str,
                seconds: int) -> None:
        loopback = request.url.hostname in ("127.0.0.1", "localhost", "::1")
        response.set_cookie(name, value, max_age=seconds, path=self.root, httponly=True,
                            samesite="lax", secure=not loopback)

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The form's fields; None for anything but a small urlencoded form (the pages
        post nothing else; a big body is not read)."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return None
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM:
                return None
        try:
            return dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=10))
        except (UnicodeDecodeError, ValueError):
            return None

    def _too_many(self, address: str) -> bool:
        recent = [t for t in self._tries.get(address, []) if time.monotonic() - t < ADDRESS_WINDOW]
        self._tries[address] = recent
        return len(recent) >= ADDRESS_TRIES
