# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny real HTTP proxy on 127.0.0.1 in front of moto's server: it records every IAM call and can throttle.

Why: tests must prove two things about the AWS side without mocking boto3. That botocore's retries ride out IAM
``Throttling`` (IAM answers HTTP 400 with an XML error body), and that bad input never sends a single request to
IAM. Pointing a module's ``endpoint_url`` at this proxy gives both: the first ``throttle`` calls get IAM's
throttling answer, everything else is forwarded to moto unchanged, and ``calls`` lists each IAM action received.
"""

from __future__ import annotations

import http.client
import threading
import typing as t
import urllib.parse
from xml.sax.saxutils import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def iam_error_body(code: str, message: str) -> bytes:
    """IAM's query-protocol error document."""
    return (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        "<RequestId>9e6f2b4c-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class IamProxy:
    """``IamProxy(moto_url, throttle=N)``; use as a context manager; ``url`` is the endpoint to give the module."""

    def __init__(self, upstream: str, throttle: int = 0, refuse: dict[str, tuple[str, str]] | None = None) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.throttle = throttle
        self.refuse = dict(refuse or {})
        self.calls: list[dict[str, t.Any]] = []
        self.url = ""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> "IamProxy":
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def actions(self) -> list[str]:
        """The IAM actions received, in order (throttled ones included)."""
        with self._lock:
            return [call["action"] for call in self.calls]

    def _record(self, action: str) -> bytes | None:
        """Log one call; the error body to answer instead of forwarding, if any."""
        with self._lock:
            throttled = self.throttle > 0
            if throttled:
                self.throttle -= 1
            self.calls.append({"action": action, "throttled": throttled})
        if throttled:
            return iam_error_body("Throttling", "Rate exceeded")
        if action in self.refuse:
            return iam_error_body(*self.refuse[action])
        return None


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: IamProxy

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: ``calls`` is the record."""

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("Action") or ["?"])[0]
        refusal = self.owner._record(action)  # pylint: disable=protected-access
        if refusal is not None:
            self._reply(400, {"Content-Type": "text/xml"}, refusal)
            return
        connection = http.client.HTTPConnection(*self.owner.upstream, timeout=60)
        try:
            headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            self._reply(answer.status, {k: v for k, v in answer.getheaders()
                                        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}, payload)
        finally:
            connection.close()

    do_GET = do_PUT = do_DELETE = do_POST

    def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
