"""One neutral ``Match`` → a Cloudflare rules expression, and the same match evaluated on a request.

Both directions live here so that what the edge is told and what the plan and the property tests
assume can be read side by side. Raw expressions (the escape hatch) cannot be evaluated here: a
``Request`` says which of them it satisfies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from appcdn.config.cache import Match
from appcdn_django.globs import glob_matches


def quote(value: str) -> str:
    """A wirefilter string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(field_expr: str, values: Sequence[str]) -> str:
    """``field_expr`` equals one of ``values``."""
    values = sorted(set(values))
    if len(values) == 1:
        return f"{field_expr} eq {quote(values[0])}"
    return f"{field_expr} in {{{' '.join(quote(v) for v in values)}}}"


def any_of_length(field_expr: str, count: int, quoted: int) -> int:
    """The length of ``any_of(field_expr, values)`` for ``count`` distinct values whose quoted forms (``quote``)
    take ``quoted`` characters together, without writing it: `` eq `` and the value, or `` in {`` and the values
    separated by spaces, then ``}``."""
    return len(field_expr) + (4 + quoted if count == 1 else 5 + quoted + count)


def _either(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _segment(segment: str) -> str:
    """Some segment of the path equals ``segment`` (lower case), whatever the path's case."""
    path = "lower(http.request.uri.path)"
    return f"({path} contains {quote('/' + segment + '/')} or ends_with({path}, {quote('/' + segment)}))"


HOST_FIELD = "lower(http.host)"
"""Hosts are compared in lower case, whatever case the client sent."""


def match_expression(hosts: Sequence[str], match: Match) -> str:
    """The expression for ``match`` on ``hosts`` (the rule's own hosts, or else its site's).

    Hosts are compared in lower case (whatever case the client sent); a cookie matches wherever its name
    appears in the Cookie header (``sessionid =x`` too, which Django reads as a session); a header is
    looked up among the header names, which Cloudflare lower-cases, and a header criterion also holds when
    Cloudflare truncated the request's header list, so a bypass on a header can never be dodged by sending
    very many headers; a query argument's name is compared URL-decoded, as Django reads it (``?%65dit`` is
    ``?edit``). ``[*]`` unpacks one array only (``http.request.uri.args.names``), so that any two criteria
    can share an expression (Cloudflare applies ``[*]`` to one array per expression)."""
    return on_hosts(match.hosts or hosts, criteria_expression(match))


def on_hosts(hosts: Sequence[str] | frozenset[str] | set[str], criteria: str) -> str:
    """``criteria`` (a ``criteria_expression``) asked of requests to ``hosts``."""
    host_test = any_of(HOST_FIELD, list(hosts))
    return f"{host_test} and {criteria}" if criteria else host_test


def criteria_expression(match: Match) -> str:
    """What ``match_expression`` asks of a request besides its host ("" when it asks nothing else)."""
    clauses = []
    if match.path_prefixes:
        clauses.append(
            _either([f"starts_with(http.request.uri.path, {quote(p)})" for p in sorted(set(match.path_prefixes))])
        )
    if match.paths:
        clauses.append(_either([f"http.request.uri.path strict wildcard {quote(p)}" for p in sorted(set(match.paths))]))
    if match.path_segments:
        clauses.append(_either([_segment(s) for s in sorted(set(match.path_segments))]))
    if match.extensions:
        clauses.append(any_of("http.request.uri.path.extension", match.extensions))
    if match.methods:
        clauses.append(any_of("http.request.method", match.methods))
    if match.cookies:
        clauses.append(_either([f"http.cookie contains {quote(c)}" for c in sorted(set(match.cookies))]))
    if match.headers:
        present = [f"has_key(http.request.headers, {quote(h)})" for h in sorted(set(match.headers))]
        clauses.append("(" + " or ".join([*present, "http.request.headers.truncated"]) + ")")
    if match.query_args:
        clauses.append(f"any({any_of('url_decode(http.request.uri.args.names[*])[*]', match.query_args)})")
    if match.expression:
        clauses.append(f"({match.expression.strip()})")
    return " and ".join(clauses)


def any_expression(expressions: Iterable[str]) -> str:
    parts = list(expressions)
    return parts[0] if len(parts) == 1 else " or ".join(f"({e})" for e in parts)


@dataclass(frozen=True)
class Request:
    """What a rule can see of a request. Host, header and query argument names as sent (``"%65dit"`` is an
    argument sent as ``?%65dit``); each cookie as its name (sent as ``name=1``; ``"sessionid "`` is sent as
    ``sessionid =1``) or as the whole pair it is sent as (``"a=sessionid"``); ``true_expressions`` lists the
    raw expressions this request satisfies."""

    host: str
    path: str = "/"
    method: str = "GET"
    cookies: frozenset[str] = frozenset()
    headers: frozenset[str] = frozenset()
    headers_truncated: bool = False
    query_args: frozenset[str] = frozenset()
    true_expressions: frozenset[str] = field(default_factory=frozenset)

    @property
    def extension(self) -> str:
        last = self.path.rsplit("/", 1)[-1]
        return last.rsplit(".", 1)[-1].lower() if "." in last else ""

    @property
    def decoded_query_args(self) -> frozenset[str]:
        """The query argument names as Django reads them (and Cloudflare's ``url_decode``): ``+`` and ``%20``
        are a space, ``%65`` is ``e``; decoded once."""
        return frozenset(unquote_plus(name) for name in self.query_args)

    @property
    def cookie_header(self) -> str:
        """The ``Cookie`` header sent."""
        return "; ".join(pair if "=" in pair else f"{pair}=1" for pair in sorted(self.cookies))


def request_matches(request: Request, hosts: Sequence[str], match: Match) -> bool:
    """Whether ``match_expression(hosts, match)`` is true for ``request``."""
    if request.host.lower() not in (match.hosts or hosts):
        return False
    if match.path_prefixes and not any(request.path.startswith(p) for p in match.path_prefixes):
        return False
    if match.paths and not any(glob_matches(g, request.path) for g in match.paths):
        return False
    if match.path_segments and not set(request.path.lower().split("/")) & set(match.path_segments):
        return False
    if match.extensions and request.extension not in match.extensions:
        return False
    if match.methods and request.method not in match.methods:
        return False
    if match.cookies and not any(c in request.cookie_header for c in match.cookies):
        return False
    if match.headers and not ({h.lower() for h in request.headers} & set(match.headers) or request.headers_truncated):
        return False
    if match.query_args and not request.decoded_query_args & set(match.query_args):
        return False
    return not (match.expression and match.expression not in request.true_expressions)
