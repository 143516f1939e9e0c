"""A reverse proxy on loopback in front of a storage emulator: it counts the requests that pass (method and
path), can answer the first N requests itself with a throttling error, can inject faults at random into a
share of requests (an error status, a connection reset before or after the request reaches the store, a
delay), can slow every request down, and can hold S3 copies to their ``x-amz-copy-source-if-match``
condition, which moto 5.2 does not evaluate (moto/s3/responses.py checks only the ``-if-none-match`` one). Real
HTTP both ways; the SDKs under test see nothing but a server at another port."""

from __future__ import annotations

import functools
import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import boto3
from botocore.exceptions import ClientError

XML = "application/xml"
PRECONDITION_FAILED = "At least one of the pre-conditions you specified did not hold"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class Throttle:
    """Answer the first ``count`` requests (matching ``methods`` and ``path_contains``, if given) with ``status``
    and ``body``."""

    count: int
    status: int = 503
    body: bytes = b""
    content_type: str = "application/xml"
    methods: tuple[str, ...] = ()
    path_contains: str = ""
    answered: int = 0


def s3_error(code: str, message: str, **fields: str) -> bytes:
    """An S3 error document, as S3 answers a refused request."""
    extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{escape(message)}</Message>'
        f"{extra}</Error>"
    ).encode()


FAULTS = ("status", "reset-before", "reset-after", "delay")


@dataclass
class Faults:
    """A share ``rate`` of the requests (matching ``methods``, if given) gets one fault, drawn from ``kinds``
    with a seeded generator: ``status`` (one of ``statuses``: status → error body), ``reset-before`` (the
    connection is reset; the store never sees the request), ``reset-after`` (the store applies it, the answer is
    lost in a reset), ``delay`` (``delay`` seconds, then forwarded)."""

    rate: float
    statuses: dict[int, bytes]
    kinds: tuple[str, ...] = FAULTS
    methods: tuple[str, ...] = ()
    path_contains: str = ""
    limit: int | None = None
    """At most this many faults."""
    delay: float = 0.3
    seed: int = 17
    injected: Counter[str] = field(default_factory=Counter)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self, method: str, path: str) -> tuple[str, int] | None:
        """The fault for one request (kind, status), or None; called under the proxy's lock."""
        if (self.methods and method not in self.methods) or self.path_contains not in path:
            return None
        if self.limit is not None and sum(self.injected.values()) >= self.limit:
            return None
        if self._random.random() >= self.rate:
            return None
        kind = self._random.choice(self.kinds)
        status = self._random.choice(sorted(self.statuses)) if kind == "status" else 0
        self.injected[f"{kind} {status}" if status else kind] += 1
        return kind, status


@dataclass
class ProxyState:
    upstream: str
    delay: float = 0.0
    throttle: Throttle | None = None
    faults: Faults | None = None
    copy_conditions: bool = False
    """Answer a copy whose source no longer has the ETag of its ``x-amz-copy-source-if-match`` with S3's 412."""
    preconditions_failed: int = 0
    """Copies answered 412 PreconditionFailed."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests forwarded, by method."""
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(method, path, request headers) of every forwarded request."""
    answered: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, the store's status) of every request the store answered, its answer delivered or lost."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.log.clear()


def _handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(state.upstream)
    local = threading.local()  # one kept-alive upstream connection per client connection (handler thread)

    @functools.cache
    def s3_reader() -> Any:
        return boto3.client(
            "s3",
            endpoint_url=state.upstream,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def upstream_connection(fresh: bool = False) -> http.client.HTTPConnection:
        if fresh or getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        connection: http.client.HTTPConnection = local.connection
        return connection

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self._copy_source_changed():
                with state.lock:
                    state.preconditions_failed += 1
                condition = "x-amz-copy-source-If-Match"
                self._answer(412, s3_error("PreconditionFailed", PRECONDITION_FAILED, Condition=condition), XML)
                return
            throttle = state.throttle
            with state.lock:
                throttled = (
                    throttle is not None
                    and throttle.answered < throttle.count
                    and (not throttle.methods or self.command in throttle.methods)
                    and throttle.path_contains in self.path
                )
                if throttled and throttle is not None:
                    throttle.answered += 1
            if throttled and throttle is not None:
                self._answer(throttle.status, throttle.body, throttle.content_type)
                return
            with state.lock:
                fault = state.faults.draw(self.command, self.path) if state.faults is not None else None
            kind, status = fault or ("", 0)
            if kind == "status" and state.faults is not None:
                self._answer(status, state.faults.statuses[status], "application/xml")
                return
            if kind == "reset-before":
                self._reset()
                return
            if kind == "delay" and state.faults is not None:
                time.sleep(state.faults.delay)
            with state.lock:
                state.requests[self.command] += 1
                state.log.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            if state.delay:
                time.sleep(state.delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                upstream = upstream_connection()
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
            except (http.client.HTTPException, OSError):  # the kept-alive connection was closed upstream
                upstream = upstream_connection(fresh=True)
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
            payload = response.read()
            with state.lock:
                state.answered.append((self.command, self.path, response.status))
            if kind == "reset-after":
                self._reset()
                return
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            declared = response.getheader("Content-Length")
            self.send_header("Content-Length", declared if self.command == "HEAD" and declared else str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _copy_source_changed(self) -> bool:
            """Whether this is a copy conditional on its source's ETag and the source now has another one (read
            upstream, as S3 evaluates the condition)."""
            expected = self.headers.get("x-amz-copy-source-if-match")
            if not state.copy_conditions or expected is None:
                return False
            source = unquote(self.headers.get("x-amz-copy-source", "").lstrip("/").split("?versionId=")[0])
            bucket, key = source.split("/", 1)
            try:
                etag: str = s3_reader().head_object(Bucket=bucket, Key=key)["ETag"]
            except ClientError:  # gone: S3 answers the copy 404, and so does the emulator
                return False
            return etag.strip('"') != expected.strip('"')

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _reset(self) -> None:
            """Close the client's connection with a TCP reset and no answer."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

    return Handler


@contextmanager
def loopback_proxy(upstream: str, **options: object) -> Iterator[tuple[str, ProxyState]]:
    """(the proxy's URL, its state) while the block runs."""
    state = ProxyState(upstream, **options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
