"""A fake Telegram Bot API server on 127.0.0.1, driven by the tests (and the benchmark).

It speaks the HTTP API python-telegram-bot uses: getMe, getUpdates (long polling
with offsets confirmed like Telegram's), sendMessage, editMessageText,
answerCallbackQuery, setWebhook/deleteWebhook. Tests push updates as a citizen
would, read what the bot sent, and can make the next calls of a method fail
(429 with retry_after, 5xx, 403).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT = {"id": 7000001, "is_bot": True, "first_name": "Prayas", "username": "PrayasTestBot",
       "can_join_groups": False, "can_read_all_group_messages": False,
       "supports_inline_queries": False}
_JSON_FIELDS = {"chat_id", "reply_markup", "offset", "limit", "timeout", "allowed_updates",
                "message_id", "show_alert", "drop_pending_updates"}


@dataclass
class Sent:
    method: str
    params: dict[str, Any]
    message_id: int
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in
                markup.get("inline_keyboard", []) for b in row]


def _multipart(kind: str, body: bytes) -> dict[str, Any]:
    """Form fields of a file upload; a file is kept as its bytes, its name beside it
    (`document:filename`)."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {kind}\r\n\r\n".encode() + body)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            params[str(name)] = payload
            params[f"{name}:filename"] = part.get_filename()
        else:
            value: Any = payload.decode()
            if name in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            params[str(name)] = value
    return params


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # the default 5 resets connections under a load test
    daemon_threads = True


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self.calls: list[Sent] = []
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.webhook: dict[str, Any] | None = None
        # Files the bot may download (getFile): file id -> bytes, as if a user sent them.
        self.files: dict[str, bytes] = {}
        self.polls = 0
        self.handed = 0  # the highest update_id getUpdates has answered with
        # The benchmark's hook: called with (chat_id, Sent) for every sendMessage.
        self.on_send: Any = None
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---- lifecycle ----------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # ---- what a citizen does ------------------------------------------------------

    def _push(self, update: dict[str, Any], copies: int = 1) -> int:
        """Queue an update; `copies=2` delivers it twice with the same update_id."""
        with self._cond:
            update["update_id"] = next(self._update_ids)
            self._updates.extend(json.loads(json.dumps(update)) for _ in range(copies))
            self._cond.notify_all()
            return int(update["update_id"])

    def raw(self, update: dict[str, Any], copies: int = 1) -> int:
        return self._push(update, copies)

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "Citizen"}

    def message(self, chat_id: int, text: str | None = None, copies: int = 1,
                **extra: Any) -> int:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": self._chat(chat_id),
                   "from": {"id": chat_id, "is_bot": False, "first_name": "Citizen"}}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(text.split()[0])}]
        message.update(extra)
        return self._push({"message": message}, copies)

    def edited(self, chat_id: int, text: str) -> int:
        message = {"message_id": 1, "date": int(time.time()), "edit_date": int(time.time()),
                   "chat": self._chat(chat_id), "text": text,
                   "from": {"id": chat_id, "is_bot": False, "first_name": "Citizen"}}
        return self._push({"edited_message": message})

    def tap(self, sent: Sent, button: int) -> int:
        """Press button number `button` (1-based) under a message the bot sent."""
        _label, data = sent.buttons[button - 1]
        return self.tap_data(sent, data)

    def tap_data(self, sent: Sent, data: str) -> int:
        message = {"message_id": sent.message_id, "date": int(time.time()),
                   "chat": self._chat(sent.chat_id), "text": sent.text,
                   "from": BOT, "reply_markup": sent.params.get("reply_markup")}
        query = {"id": f"q{next(self._message_ids)}", "chat_instance": "ci", "data": data,
                 "from": {"id": sent.chat_id, "is_bot": False, "first_name": "Citizen"},
                 "message": message}
        return self._push({"callback_query": query})

    # ---- what the bot did -----------------------------------------------------------

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Sent]:
        with self._cond:
            return [c for c in self.calls if c.method == method
                    and (chat_id is None or c.chat_id == chat_id)]

    def wait_for(self, count: int, chat_id: int | None = None, method: str = "sendMessage",
                 timeout: float = 15.0) -> list[Sent]:
        """Wait until the bot has made `count` such calls; returns them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method
                         and (chat_id is None or c.chat_id == chat_id)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    texts = [c.text[:60] for c in found]
                    raise AssertionError(f"waited for {count} {method}, got {len(found)}: {texts}")
                self._cond.wait(left)

    def fail_next(self, method: str, status: int, times: int = 1,
                  retry_after: int | None = None, description: str = "fake failure",
                  after: int = 0) -> None:
        """Make calls of `method` fail, once `after` more of them have succeeded."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        with self._cond:
            self._failures.setdefault(method, []).extend(
                [(0, {})] * after + [(status, body)] * times)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 15.0,
                   what: str = "a condition") -> None:
        """Wait until `predicate()` holds; it is checked under the fake's lock each time
        the bot calls, a poll is answered or `wake()` is called."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise AssertionError(f"waited {timeout:.0f} s for {what}")

    def wake(self) -> None:
        """Check what `wait_until` waits for again (something outside the fake changed)."""
        with self._cond:
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return sum(1 for u in self._updates if u["update_id"] >= self._confirmed)

    # ---- the HTTP side ----------------------------------------------------------------

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(timeout, 5.0)
        with self._cond:
            if offset:
                self._confirmed = max(self._confirmed, offset)
                self._cond.notify_all()
            while True:
                ready = [u for u in self._updates if u["update_id"] >= self._confirmed]
                if ready:
                    self.handed = max(self.handed, *(u["update_id"] for u in ready[:limit]))
                    self._cond.notify_all()
                    return ready[:limit]
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        with self._cond:
            planned = self._failures.get(method)
            status, body = planned.pop(0) if planned else (0, {})
            if status:
                self.calls.append(Sent(f"failed:{method}", params, 0))
                self._cond.notify_all()
                return status, body
        if method == "getUpdates":
            with self._cond:
                self.polls += 1
                self._cond.notify_all()
            return 200, self._get_updates(params)
        if method == "getMe":
            return 200, BOT
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "close",
                      "logOut"):
            result: Any = True
        elif method == "setWebhook":
            self.webhook = params
            result = True
        elif method == "getWebhookInfo":
            result = {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                      "pending_update_count": 0}
        elif method == "sendPhoto":
            result = {"message_id": next(self._message_ids), "date": int(time.time()),
                      "chat": self._chat(int(params.get("chat_id") or 1)), "from": BOT,
                      "photo": [{"file_id": "ph", "file_unique_id": "ph", "width": 1,
                                 "height": 1}]}
        elif method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: invalid file_id"}
            result = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                      "file_size": len(self.files[file_id]), "file_path": f"voice/{file_id}.ogg"}
        elif method in ("sendVoice", "sendAudio"):
            result = {"message_id": next(self._message_ids), "date": int(time.time()),
                      "chat": self._chat(int(params.get("chat_id") or 1)), "from": BOT,
                      "voice": {"file_id": "sent-voice", "file_unique_id": "sv", "duration": 1}}
        elif method == "sendDocument":
            result = {"message_id": next(self._message_ids), "date": int(time.time()),
                      "chat": self._chat(int(params.get("chat_id") or 1)), "from": BOT,
                      "document": {"file_id": "doc", "file_unique_id": "doc"}}
        elif method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            message_id = int(params.get("message_id") or next(self._message_ids))
            result = {"message_id": message_id, "date": int(time.time()),
                      "chat": self._chat(int(params.get("chat_id") or 1)),
                      "text": params.get("text", ""), "from": BOT}
            if params.get("reply_markup"):
                result["reply_markup"] = params["reply_markup"]
        else:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method"}
        sent = Sent(method, params, int(result["message_id"])
                    if isinstance(result, dict) and "message_id" in result else 0)
        if self.on_send is not None and method == "sendMessage":
            self.on_send(sent.chat_id, sent)
            return 200, result  # under load, keep no history: the benchmark counts itself
        with self._cond:
            self.calls.append(sent)
            self._cond.notify_all()
        return 200, result

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type") or ""
                if kind.startswith("multipart/form-data"):
                    return _multipart(kind, body)
                raw = body.decode()
                if "json" in kind:
                    return json.loads(raw or "{}")
                params: dict[str, Any] = {}
                for key, values in parse_qs(raw, keep_blank_values=True).items():
                    value: Any = values[-1]
                    if key in _JSON_FIELDS:
                        with contextlib.suppress(ValueError):
                            value = json.loads(value)
                    params[key] = value
                return params

            def _serve(self) -> None:
                prefix = f"/bot{fake.token}/"
                downloads = f"/file/bot{fake.token}/voice/"
                if self.path.startswith(downloads) and self.path.endswith(".ogg"):
                    found = fake.files.get(self.path[len(downloads):-len(".ogg")])
                    self.send_response(200 if found is not None else 404)
                    self.send_header("Content-Length", str(len(found or b"")))
                    self.end_headers()
                    self.wfile.write(found or b"")
                    return
                if not self.path.startswith(prefix):
                    status, body = 401, {"ok": False, "error_code": 401,
                                         "description": "Unauthorized"}
                else:
                    status, result = fake._answer(self.path[len(prefix):], self._params())
                    body = result if status != 200 else {"ok": True, "result": result}
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot hung up a long poll while shutting down

        return Handler
