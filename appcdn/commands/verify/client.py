"""Sending verify's requests: over HTTPS to the row's host (TLS 1.2 or later, the certificate verified), or with
``--edge URL`` to that address with the row's ``Host`` (plain HTTP only for a loopback address), one at a time
at a bounded rate, each with a timeout, a ``User-Agent`` naming appcdn verify, and at most ``MAX_BODY`` bytes
of the answer read."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import urlsplit

TIMEOUT = 10.0
MAX_BODY = 64 * 1024
USER_AGENT = f"appcdn-verify/{version('appcdn')} (appcdn verify: checks the edge's cache behaviour; GET/HEAD only)"


class EdgeError(ValueError):
    """An ``--edge`` address verify does not send to."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    """Lower-case names; repeated headers joined with ``, ``."""
    body_size: int


@dataclass(frozen=True)
class Edge:
    """Where requests go: None for each row's own host over HTTPS."""

    scheme: str = "https"
    address: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str | None) -> Edge:
        if url is None:
            return cls()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EdgeError(f"--edge {url!r}: an http:// or https:// address, e.g. https://203.0.113.7")
        if parts.path not in ("", "/") or parts.query or parts.username:
            raise EdgeError(f"--edge {url!r}: a scheme, a host and a port only (no path, query or user)")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise EdgeError(f"--edge {url!r}: plain HTTP only to a loopback address (127.0.0.1, ::1, localhost)")
        return cls(parts.scheme, parts.hostname, parts.port)

    def describe(self) -> str:
        if self.address is None:
            return "each row's host over HTTPS"
        return f"{self.scheme}://{self.address}{'' if self.port is None else f':{self.port}'} with each row's Host"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _EdgeHTTPS(http.client.HTTPSConnection):
    """Connects to the edge's address but speaks TLS for the row's host (SNI and certificate check)."""

    def __init__(self, address: str, port: int | None, server_name: str, context: ssl.SSLContext):
        super().__init__(address, port, timeout=TIMEOUT, context=context)
        self.server_name = server_name
        self.tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.server_name)


class Client:
    """Sends one request at a time, at most ``rate`` a second."""

    def __init__(self, edge: Edge, rate: float):
        self.edge = edge
        self.interval = 1.0 / rate
        self.context = tls_context()
        self.last = 0.0
        self.sent = 0

    def _connection(self, host: str) -> http.client.HTTPConnection:
        if self.edge.address is None:
            return http.client.HTTPSConnection(host, timeout=TIMEOUT, context=self.context)
        if self.edge.scheme == "http":
            return http.client.HTTPConnection(self.edge.address, self.edge.port, timeout=TIMEOUT)
        return _EdgeHTTPS(self.edge.address, self.edge.port, host, self.context)

    def send(self, method: str, host: str, target: str, headers: tuple[tuple[str, str], ...]) -> Answer:
        """Raises OSError (http.client's errors included) when the edge cannot be reached or answers nonsense."""
        wait = self.last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last = time.monotonic()
        self.sent += 1
        connection = self._connection(host)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in (("Host", host), ("User-Agent", USER_AGENT), *headers):
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            body = response.read(MAX_BODY) if method != "HEAD" else b""
            found: dict[str, str] = {}
            for name, value in response.getheaders():
                key = name.lower()
                found[key] = f"{found[key]}, {value}" if key in found else value
            return Answer(response.status, found, len(body))
        except http.client.HTTPException as err:
            raise OSError(f"{type(err).__name__}: {err}") from err
        finally:
            connection.close()
