"""A Cloudflare edge on loopback for ``appcdn verify``: it evaluates a stack's *planned* rules with the project's
own evaluation of the compiled rules (``appcdn.rules.rulesets.apply_rules``, the settings every matching rule
makes, the last one winning) and answers as Cloudflare does: ``cf-cache-status``, ``age``, the browser TTL
written into ``cache-control``, ``cf-polished`` on a polished image, a cache keyed by host, path and the query
as the rule's cache key says. Behind it, an origin: the app answers ``public, max-age=600`` (an image for
``.jpg``), a media host answers each key with its header rule's headers (``appcdn.rules.media``).

``EdgeVariant`` makes it unfaithful in one way at a time: a rule dropped, a rule moved first, a key that
ignores the query, an origin that sends Set-Cookie, the zone's Polish changed, or caching everything (every
answer a HIT with an age) or nothing (DYNAMIC everywhere).
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from appcdn.config.media import HeaderRule, media_hosts
from appcdn.config.project import Project
from appcdn.defaults import AZURE_PUBLIC_CONTAINER, STATIC_EXTENSIONS
from appcdn.rules.expressions import Request
from appcdn.rules.media import first_match, object_headers
from appcdn.rules.rulesets import CompiledRule, ZoneRules, apply_rules, site_stages

ORIGIN_CACHE_CONTROL = "public, max-age=600"
ZONE_BROWSER_TTL = 4 * 3600
DEFAULT_EDGE_TTL = {200: 7200, 206: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180}
"""Cloudflare's edge TTL by status when the origin says nothing
(https://developers.cloudflare.com/cache/how-to/configure-cache-status-code/)."""
IMAGE = b"\xff\xd8\xff\xe0" + b"appcdn verify test image" * 40


@dataclass(frozen=True)
class EdgeVariant:
    everything: bool = False
    """Every answer a HIT with an age."""
    nothing: bool = False
    """Every answer DYNAMIC."""
    drop: tuple[str, ...] = ()
    """Refs of cache rules left out."""
    first: tuple[str, ...] = ()
    """Refs of cache rules moved before all others."""
    key_ignores_query: bool = False
    origin_sets_cookie: bool = False
    zone_polish: str | None = None
    age_offset: int = 0
    """Seconds added to every cached answer's age: objects kept far longer than the planned edge TTL."""
    keeps_set_cookie: bool = False
    """Stored answers keep the origin's Set-Cookie."""
    unproxied: bool = False
    """No cf-cache-status: the host's DNS record is not proxied, the answers come straight from the origin."""
    stale_objects: bool = False
    """The stored media objects carry ``public, max-age=86400`` and nothing else, whatever their header rule."""


@dataclass
class Stored:
    at: float
    ttl: int
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class EdgeState:
    zones: dict[str, tuple[list[CompiledRule], list[CompiledRule], str]]
    """host → (cache rules, configuration rules, zone Polish)."""
    media: dict[str, tuple[list[HeaderRule], str | None]]
    variant: EdgeVariant
    cache: dict[tuple[str, str, str], Stored] = field(default_factory=dict)
    log: list[tuple[str, str, str, dict[str, str], int]] = field(default_factory=list)
    """(method, host, target, request headers, body length) of every request."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the origin -----------------------------------------------------------------------------------

    def origin(self, host: str, path: str) -> tuple[int, dict[str, str], bytes]:
        image = path.lower().endswith(".jpg")
        body = IMAGE if image else b"<html>appcdn verify test page</html>"
        headers = {"content-type": "image/jpeg" if image else "text/html; charset=utf-8"}
        media = self.media.get(host)
        if media is not None:
            rules, container = media
            prefix = f"/{container}/" if container else "/"
            key = path.removeprefix(prefix) if path.startswith(prefix) else ""
            rule = first_match(rules, key) if key else None
            if rule is None:
                return 404, {"content-type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>"
            stored = {"Cache-Control": "public, max-age=86400"} if self.variant.stale_objects else object_headers(rule)
            headers.update({k.lower(): v for k, v in stored.items()})
        else:
            headers["cache-control"] = ORIGIN_CACHE_CONTROL
        if self.variant.origin_sets_cookie:
            headers["set-cookie"] = "csrftoken=origin-cookie; Path=/; SameSite=Lax"
        return 200, headers, body

    # --- the edge ---------------------------------------------------------------------------------------

    def key(self, host: str, path: str, query: str, settings: Mapping[str, Any]) -> tuple[str, str, str]:
        args = [a for a in query.split("&") if a]
        spec = ((settings.get("cache_key") or {}).get("custom_key") or {}).get("query_string") or {}
        if "exclude" in spec:
            args = (
                []
                if spec["exclude"].get("all")
                else [a for a in args if a.split("=")[0] not in spec["exclude"]["lists"]]
            )
        elif "include" in spec and not spec["include"].get("all"):
            args = [a for a in args if a.split("=")[0] in spec["include"]["lists"]]
        if (settings.get("cache_key") or {}).get("ignore_query_strings_order"):
            args.sort()
        return host, path, "" if self.variant.key_ignores_query else "&".join(args)

    def answer(
        self, method: str, host: str, target: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path, query = parts.path or "/", parts.query
        zone = self.zones.get(host)
        if zone is None:
            return 404, {"content-type": "text/plain"}, b"no zone for this host"
        status, origin_headers, body = self.origin(host, path)
        if self.variant.unproxied:
            return status, origin_headers, body
        if self.variant.everything:
            return status, {**origin_headers, "cf-cache-status": "HIT", "age": "120"}, body
        if self.variant.nothing:
            return status, {**origin_headers, "cf-cache-status": "DYNAMIC"}, body
        cache_rules, config_rules, zone_polish = zone
        cookie_pairs = {c.strip() for c in headers.get("cookie", "").split(";") if c.strip()}  # as sent
        request = Request(
            host,
            path,
            method,
            frozenset(cookie_pairs),
            frozenset(headers),
            False,
            frozenset(a.split("=")[0] for a in query.split("&") if a),
        )
        if method not in ("GET", "HEAD"):
            return status, {**origin_headers, "cf-cache-status": "DYNAMIC"}, body
        settings = apply_rules(cache_rules, request)
        polish = apply_rules(config_rules, request).get("polish", zone_polish)
        ttl, verdict = self.edge_ttl(settings, status, origin_headers, path)
        if verdict is not None:
            return status, {**origin_headers, "cf-cache-status": verdict}, body
        key = self.key(host, path, query, settings)
        now = time.monotonic()
        stored = self.cache.get(key)
        if stored is not None and now - stored.at < stored.ttl:
            cache_status, age = "HIT", int(now - stored.at)
        else:
            cache_status, age = ("EXPIRED" if stored else "MISS"), 0
            served = {k: v for k, v in origin_headers.items() if k != "set-cookie" or self.variant.keeps_set_cookie}
            stored = self.cache[key] = Stored(now, ttl, status, served, body)
        out = {**stored.headers, "cf-cache-status": cache_status}
        if cache_status == "HIT":
            out["age"] = str(age + self.variant.age_offset)
        out["cache-control"] = self.browser(settings, out.get("cache-control", ""))
        if polish != "off" and out.get("content-type", "").startswith("image/") and cache_status == "HIT":
            out["cf-polished"] = f"origSize={len(stored.body)}"
        return stored.status, out, stored.body

    def edge_ttl(
        self, settings: Mapping[str, Any], status: int, origin: Mapping[str, str], path: str
    ) -> tuple[int, str | None]:
        """(TTL, None) when the answer is stored; (0, cf-cache-status) when it is not."""
        cached = settings.get("cache")
        if cached is False:
            return 0, "DYNAMIC"
        if cached is None and path.rsplit(".", 1)[-1].lower() not in STATIC_EXTENSIONS:
            return 0, "DYNAMIC"
        edge = settings.get("edge_ttl") or {"mode": "respect_origin"}
        if edge["mode"] == "override_origin":
            for entry in edge.get("status_code_ttls", []):
                bounds = entry.get("status_code_range", {})
                if entry.get("status_code") == status or bounds.get("from_", 1000) <= status <= bounds.get("to", 0):
                    return (0, "BYPASS") if entry["value"] <= 0 else (entry["value"], None)
            return edge["default"], None
        control = origin.get("cache-control", "").lower()
        if "set-cookie" in origin or re.search(r"no-store|private|no-cache|max-age=0\b", control):
            return 0, "BYPASS"
        found = re.search(r"(?:s-maxage|max-age)=(\d+)", control)
        if found:
            return int(found.group(1)), None
        if edge["mode"] == "bypass_by_default":
            return 0, "DYNAMIC"
        return DEFAULT_EDGE_TTL.get(status, 0), None if status in DEFAULT_EDGE_TTL else "DYNAMIC"

    @staticmethod
    def browser(settings: Mapping[str, Any], control: str) -> str:
        browser = settings.get("browser_ttl")
        if browser is None:
            found = re.search(r"max-age=(\d+)", control)
            return f"max-age={max(ZONE_BROWSER_TTL, int(found.group(1)) if found else 0)}"
        if browser["mode"] == "override_origin":
            return f"max-age={browser['default']}"
        return control


def edge_state(project: Project, compiled: Mapping[str, ZoneRules], variant: EdgeVariant | None = None) -> EdgeState:
    """The edge for a stack's compiled zones, faithful unless ``variant`` says otherwise."""
    variant = variant or EdgeVariant()
    zones = {}
    media = {}
    for zone_name, rules in compiled.items():
        cache = [r for r in rules.cache if r.ref not in variant.drop]
        cache = [r for r in cache if r.ref in variant.first] + [r for r in cache if r.ref not in variant.first]
        polish = variant.zone_polish or project.zone(zone_name).images.polish
        for rule in rules.cache:
            for host in rule.hosts:
                zones[host] = (cache, list(rules.config), polish)
        for ss in site_stages(project, zone_name):
            if ss.media is not None:
                for host in media_hosts(ss.media):
                    media[host] = (
                        list(ss.media.headers),
                        AZURE_PUBLIC_CONTAINER if ss.media.backend == "azure" else None,
                    )
    return EdgeState(zones, media, variant)


def _handler(state: EdgeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def handle_any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            host = (self.headers.get("host") or "").lower()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                state.log.append((self.command, host, self.path, headers, len(body)))
                status, out, payload = state.answer(self.command, host, self.path, headers)
            self.send_response(status)
            for name, value in out.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    return Handler


@contextmanager
def loopback_edge(state: EdgeState, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """The edge serving on 127.0.0.1, over TLS with ``tls``; yields its address (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
