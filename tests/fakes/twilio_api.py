"""A fake Twilio REST API on 127.0.0.1: the Messages resource, as twilio-python calls it.

POST /2010-04-01/Accounts/{sid}/Messages.json with HTTP basic auth (the account sid
and auth token) and a form: To, From, Body or ContentSid + ContentVariables,
StatusCallback. It answers 201 with a message resource, or whatever failure the
test planned (Twilio's error JSON: 63016, 21610, 429, 5xx). Tests read what was sent.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/MM\w+/Media/(ME\w+)$")
STORE = "/store/"  # where Twilio redirects a media request, asked without credentials
ERRORS = {63016: "Failed to send freeform message because you are outside the allowed window.",
          21610: "Attempt to send to unsubscribed recipient", 20429: "Too Many Requests",
          21656: "The ContentVariables Parameter is invalid."}


@dataclass(frozen=True)
class Sent:
    to: str
    sender: str
    body: str
    content_sid: str
    variables: dict[str, str]
    status_callback: str
    sid: str
    media_url: str = ""  # MediaUrl: a file Twilio would fetch and deliver


class FakeTwilio:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        # Media users sent (a voice note, a photo): media sid -> (content type, bytes).
        self.media: dict[str, tuple[str, bytes]] = {}
        self.media_requests: list[tuple[str, str]] = []  # (path, Authorization)
        self.media_down = False  # the media store answers 503 (an outage)
        self.refused: list[tuple[int, dict[str, str]]] = []  # (code, form) of planned failures
        self._failures: list[tuple[int, int]] = []  # (http status, twilio code)
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, kind, body, location = fake._media(
                    self.path, self.headers.get("Authorization", ""))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                status, body = fake._answer(self.path, self.headers.get("Authorization", ""),
                                            form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        """The next `times` sends fail with this HTTP status and Twilio error code."""
        with self._cond:
            self._failures += [(status, code)] * times

    def media_url(self, media_sid: str) -> str:
        """The MediaUrl0 Twilio posts for a message with this media."""
        return (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
                f"MM{media_sid[2:]}/Media/{media_sid}")

    def _media(self, path: str, auth: str) -> tuple[int, str, bytes, str]:
        """As Twilio does: the API answers an authenticated request with a redirect to
        its store, which serves the file to anyone holding the link."""
        with self._cond:
            self.media_requests.append((path, auth))
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if path.startswith(STORE) and self.media_down:
            return 503, "text/plain", b"", ""
        if path.startswith(STORE):
            found = self.media.get(path[len(STORE):])
            return (200, *found, "") if found else (404, "text/plain", b"", "")
        matched = MEDIA.match(path)
        if not matched or matched.group(1) != ACCOUNT_SID or matched.group(2) not in self.media:
            return 404, "application/json", b'{"code": 20404}', ""
        if auth != expected:
            return 401, "application/json", b'{"code": 20003}', ""
        return 307, "text/plain", b"", f"{self.url}{STORE}{matched.group(2)}"

    def _answer(self, path: str, auth: str, form: dict[str, str]) -> tuple[int, Any]:
        found = MESSAGES.match(path)
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if not found or found.group(1) != ACCOUNT_SID:
            return 404, {"code": 20404, "message": "The requested resource was not found",
                         "status": 404}
        if auth != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        with self._cond:
            if self._failures:
                status, code = self._failures.pop(0)
                self.refused.append((code, form))
                self._cond.notify_all()
                return status, {"code": code, "message": ERRORS.get(code, "Error"),
                                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                "status": status}
            sid = f"SM{next(self._ids):032x}"
            self.sent.append(Sent(form.get("To", ""), form.get("From", ""), form.get("Body", ""),
                                  form.get("ContentSid", ""),
                                  json.loads(form.get("ContentVariables") or "{}"),
                                  form.get("StatusCallback", ""), sid, form.get("MediaUrl", "")))
            self._cond.notify_all()
        return 201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form.get("To"),
                     "from": form.get("From"), "body": form.get("Body", ""),
                     "status": "queued", "num_segments": "1", "direction": "outbound-api",
                     "api_version": "2010-04-01", "error_code": None, "error_message": None,
                     "uri": f"{path[:-5]}/{sid}.json"}

    def to(self, urn: str) -> list[Sent]:
        with self._cond:
            return [s for s in self.sent if s.to == urn]

    def wait_for(self, count: int, urn: str, timeout: float = 10.0) -> list[Sent]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [s for s in self.sent if s.to == urn]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"waited for {count} messages to {urn}, got "
                                         f"{len(found)}: {[s.body[:40] for s in found]}")
                self._cond.wait(left)
