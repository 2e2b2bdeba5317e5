"""A small client of the ID service for other Python services.

    from pcloud.segments.client import SegmentClient

    ids = SegmentClient("http://pcloud.internal:8000", secure_id="op_...", secure_key="...", buffer_size=500)
    order_id = ids.next_id("order")          # an int
    batch = ids.batch("order", 100)          # 100 ints, ascending

It signs in with the open-platform grant (`grantType: OPEN`), keeps the token, and signs in again once
when a call answers 401 (token expired or revoked). With `buffer_size` > 0, `next_id` serves ids from a
local buffer per tag refilled with one batch call, so most ids cost no request; ids left in the buffer
when the process ends are simply never used (ids are unique, not gapless). Standard library only;
thread-safe; one keep-alive connection per thread.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import quote, urlsplit

MAX_BATCH = 1000


class SegmentClientError(Exception):
    """The service refused or failed: `code` is the envelope's code (401, 403, 404, 409, 422, 503...)."""

    def __init__(self, code: int, msg: str):
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


class SegmentClient:
    def __init__(self, base_url: str, secure_id: str, secure_key: str, *, timeout: float = 10.0,
                 buffer_size: int = 0):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be http(s)://host[:port][/prefix]")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path
        self.secure_id = secure_id
        self._secure_key = secure_key
        self.timeout = timeout
        self.buffer_size = max(0, min(int(buffer_size), MAX_BATCH))
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self._buffers: dict[str, deque[int]] = {}
        self._buffer_lock = threading.Lock()
        self._local = threading.local()
        self.requests = 0  # HTTP calls made (tests and metrics)
        self.sign_ins = 0

    # -----------------------------------------------------------------------------------------
    # Public

    def next_id(self, tag: str) -> int:
        if not self.buffer_size:
            return int(self._call("GET", f"/api/integration/segment/get/{quote(tag, safe='')}"))
        with self._buffer_lock:
            buf = self._buffers.setdefault(tag, deque())
            if not buf:
                buf.extend(self._batch(tag, self.buffer_size))
            return buf.popleft()

    def batch(self, tag: str, count: int) -> list[int]:
        """`count` ids, ascending (several calls above 1000)."""
        out: list[int] = []
        while len(out) < count:
            out.extend(self._batch(tag, min(MAX_BATCH, count - len(out))))
        return out

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -----------------------------------------------------------------------------------------
    # Internals

    def _batch(self, tag: str, count: int) -> list[int]:
        data = self._call("GET", f"/api/integration/segment/batch/{quote(tag, safe='')}/{int(count)}")
        return [int(i) for i in data]

    def _sign_in(self, stale: str | None) -> str:
        with self._token_lock:
            if self._token is not None and self._token != stale:
                return self._token  # another thread renewed it already
            status, body = self._request("POST", "/api/oauth/token", {
                "grantType": "OPEN", "secureId": self.secure_id, "secureKey": self._secure_key}, None)
            code = _code(status, body)
            if code != 200:
                self._token = None
                raise SegmentClientError(code, _msg(body, status))
            self._token = body["data"]["token"]
            self.sign_ins += 1
            return self._token

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        token = self._token or self._sign_in(None)
        for attempt in (1, 2):
            status, body = self._request(method, path, payload, token)
            code = _code(status, body)
            if code == 200:
                return body["data"]
            if code == 401 and attempt == 1:
                token = self._sign_in(token)
                continue
            raise SegmentClientError(code, _msg(body, status))
        raise AssertionError("unreachable")

    def _connection(self) -> HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = HTTPSConnection if self._scheme == "https" else HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _request(self, method: str, path: str, payload: Any, token: str | None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: reconnect once
            conn = self._connection()
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                self.requests += 1
                break
            except (HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, None


def _code(status: int, body: Any) -> int:
    """The envelope's code (PCLOUD_API_ERRORS=body answers HTTP 200 with the real code inside)."""
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return body["code"]
    return status


def _msg(body: Any, status: int) -> str:
    return str(body.get("msg")) if isinstance(body, dict) and body.get("msg") else f"HTTP {status}"
