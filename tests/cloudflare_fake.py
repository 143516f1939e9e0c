"""A loopback stand-in for the Cloudflare API endpoints appcdn calls, answering in the API's documented shapes
(``tests/fixtures/cloudflare_api``): the success envelope, ``result_info`` pagination up to an empty page, 404
with Cloudflare's error code for a missing entry point, 429 with ``Retry-After`` before a success where asked.
``appcdn adopt`` reads zones, entry-point rulesets, DNS records, Cloud Connector rules and page rules; the
header reconcile purges (``POST /zones/<id>/purge_cache``, recorded in ``purges``). It records every request;
any other write is answered 405 (and fails the tests that check)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "cloudflare_api"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def envelope(result: Any, **extra: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": [], **extra}


def cloudflare_error(code: int, message: str) -> dict[str, Any]:
    """The API's error envelope, for ``FakeCloudflare.failing``."""
    return {"success": False, "messages": [], "result": None, "errors": [{"code": code, "message": message}]}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    status: int = 0


@dataclass
class FakeCloudflare:
    """Zones by id with what exists on them; requests as received."""

    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    """zone id → {"name", "entrypoints": {phase: ruleset}, "records": [...], "connector": [...], "page_rules": [...]}"""
    page_size: int = 2
    """The most records the server puts on a page, whatever ``per_page`` asks."""
    total_pages: bool = True
    """Whether ``result_info`` says how many pages there are (else the client reads up to an empty page)."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """Path → how many times it is answered 429 before it succeeds."""
    failing: dict[str, tuple[int, dict[str, Any] | str]] = field(default_factory=dict)
    """Paths always answered with this status and body (JSON, or text as a proxy's error page would be)."""
    purges: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(zone id, body) of every purge accepted."""
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any = None
    ) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        parts = path.strip("/").split("/")
        purging = method == "POST" and len(parts) == 3 and parts[0] == "zones" and parts[2] == "purge_cache"
        if method != "GET" and not purging:
            return 405, {"success": False, "errors": [{"code": 10000, "message": "method not allowed"}]}, {}
        if self.rate_limited.get(path, 0) > 0:
            self.rate_limited[path] -= 1
            return (
                429,
                {
                    "success": False,
                    "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}],
                },
                {"Retry-After": "0.01"},
            )
        if path in self.failing:
            status, failure = self.failing[path]
            return status, failure, {}
        if parts == ["zones"]:
            found = [
                {"id": zid, "name": z["name"]}
                for zid, z in self.zones.items()
                if z["name"] == query.get("name", [None])[0]
            ]
            return 200, self.page(found, query), {}
        zone = self.zones.get(parts[1]) if len(parts) > 1 else None
        if zone is None:
            return (
                404,
                {
                    "success": False,
                    "errors": [
                        {
                            "code": 7003,
                            "message": f"Could not route to {path}, perhaps your object identifier is invalid?",
                        }
                    ],
                    "messages": [],
                    "result": None,
                },
                {},
            )
        rest = parts[2:]
        if purging:
            self.purges.append((parts[1], body))
            return 200, envelope({"id": parts[1]}), {}
        if rest[:2] == ["rulesets", "phases"] and rest[3:] == ["entrypoint"]:
            ruleset = zone.get("entrypoints", {}).get(rest[2])
            if ruleset is None:
                missing = fixture("entrypoint_not_found.json")
                missing["errors"][0]["message"] = f"could not find entrypoint ruleset in the {rest[2]} phase"
                return 404, missing, {}
            return 200, envelope(ruleset), {}
        if rest == ["dns_records"]:
            name = query.get("name.exact", [None])[0]
            records = [r for r in zone.get("records", []) if name is None or r["name"] == name]
            return 200, self.page(records, query), {}
        if rest == ["cloud_connector", "rules"]:
            return 200, envelope(zone.get("connector", [])), {}
        if rest == ["pagerules"]:
            return 200, envelope(zone.get("page_rules", [])), {}
        return 404, {"success": False, "errors": [{"code": 7000, "message": "No route for that URI"}]}, {}

    def page(self, items: list[Any], query: dict[str, list[str]]) -> dict[str, Any]:
        per_page = min(int(query.get("per_page", ["20"])[0]), self.page_size)
        number = int(query.get("page", ["1"])[0])
        chunk = items[(number - 1) * per_page : number * per_page]
        info = {"page": number, "per_page": per_page, "count": len(chunk), "total_count": len(items)}
        if self.total_pages:
            info["total_pages"] = max(1, -(-len(items) // per_page))
        return envelope(chunk, result_info=info)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def tokens(self) -> set[str | None]:
        return {r.authorization for r in self.requests}

    def answered(self, status: int) -> int:
        return sum(r.status == status for r in self.requests)


def _handler(api: FakeCloudflare) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            url = urlsplit(self.path)
            path = url.path.removeprefix("/client/v4")
            query = parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length)) if length else None
            status, body, headers = api.answer(self.command, path, query, sent)
            api.requests.append(Recorded(self.command, path, query, self.headers.get("Authorization"), status))
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def cloudflare_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudflare]:
    """The fake API on a free loopback port, with the SDK pointed at it and a dummy token; stopped after."""
    api = FakeCloudflare()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", DUMMY_TOKEN)
    for name in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


DUMMY_TOKEN = "dummy-token-7f3c9a1e5b2d4c6f8a0e"
