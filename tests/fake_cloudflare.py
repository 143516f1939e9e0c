"""A loopback HTTP server answering Cloudflare's API for purge, in the API's documented envelopes
(https://developers.cloudflare.com/api/resources/cache/methods/purge/, .../zones/methods/list/):
``{"success", "errors", "messages", "result"}``. It can answer the first N purges with 429 and
``Retry-After``, or every purge with an error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeCloudflare:
    zones: dict[str, str] = field(default_factory=dict)
    """Zone name → id, for the zone list."""
    rate_limited: int = 0
    """Answer this many purge requests with 429 first."""
    refuse: bool = False
    purges: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(zone id, body) of every purge request accepted."""
    answered_429: int = 0
    tokens: set[str] = field(default_factory=set)


def _envelope(result: Any, success: bool = True, errors: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps({"success": success, "errors": errors or [], "messages": [], "result": result}).encode()


@contextmanager
def fake_cloudflare(state: FakeCloudflare) -> Iterator[str]:
    """The API base URL (for ``CLOUDFLARE_BASE_URL``) while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            state.tokens.add(self.headers.get("Authorization", ""))
            if url.path == "/client/v4/zones":
                name = parse_qs(url.query).get("name", [""])[0]
                zones = [{"id": zid, "name": zname} for zname, zid in state.zones.items() if zname == name]
                body = json.loads(_envelope(zones))
                body["result_info"] = {"page": 1, "per_page": 20, "count": len(zones), "total_count": len(zones)}
                self._send(200, json.dumps(body).encode())
            else:
                self._send(404, _envelope(None, False, [{"code": 7003, "message": "Could not route"}]))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            state.tokens.add(self.headers.get("Authorization", ""))
            parts = self.path.split("/")  # /client/v4/zones/<id>/purge_cache
            if len(parts) != 6 or parts[5] != "purge_cache":
                return self._send(404, _envelope(None, False, [{"code": 7003, "message": "Could not route"}]))
            if state.answered_429 < state.rate_limited:
                state.answered_429 += 1
                return self._send(429, _envelope(None, False, [{"code": 971, "message": "Please wait and consider "
                                                                "throttling your request speed"}]),
                                  {"Retry-After": "0"})
            if state.refuse:
                return self._send(403, _envelope(None, False, [{"code": 10000, "message": "Authentication error"}]))
            state.purges.append((parts[4], body))
            self._send(200, _envelope({"id": parts[4]}))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    finally:
        server.shutdown()
        server.server_close()
