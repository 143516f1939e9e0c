"""One neutral ``Match`` → a Cloudflare rules expression, and the same match evaluated on a request.

Both directions live here so that what the edge is told and what the plan and the property tests
assume can be read side by side. Raw expressions (the escape hatch) cannot be evaluated here: a
``Request`` says which of them it satisfies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from appcdn.config.cache import Match
from appcdn.config.globs import glob_matches


def quote(value: str) -> str:
    """A wirefilter string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field_expr: str, values: Sequence[str]) -> str:
    values = sorted(set(values))
    if len(values) == 1:
        return f"{field_expr} eq {quote(values[0])}"
    return f"{field_expr} in {{{' '.join(quote(v) for v in values)}}}"


def _either(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def match_expression(hosts: Sequence[str], match: Match) -> str:
    """The expression for ``match`` on ``hosts`` (the rule's own hosts, or else its site's)."""
    clauses = [_any_of("http.host", match.hosts or hosts)]
    if match.path_prefixes:
        clauses.append(_either([f"starts_with(http.request.uri.path, {quote(p)})" for p in sorted(set(match.path_prefixes))]))
    if match.paths:
        clauses.append(_either([f"http.request.uri.path strict wildcard {quote(p)}" for p in sorted(set(match.paths))]))
    if match.extensions:
        clauses.append(_any_of("http.request.uri.path.extension", match.extensions))
    if match.methods:
        clauses.append(_any_of("http.request.method", match.methods))
    if match.cookies:
        clauses.append(_either([f"http.cookie contains {quote(c + '=')}" for c in sorted(set(match.cookies))]))
    if match.headers:
        clauses.append(_either([f"any(lower(http.request.headers.names[*])[*] eq {quote(h)})"
                                for h in sorted(set(match.headers))]))
    if match.expression:
        clauses.append(f"({match.expression.strip()})")
    return " and ".join(clauses)


def any_expression(expressions: Iterable[str]) -> str:
    parts = list(expressions)
    return parts[0] if len(parts) == 1 else " or ".join(f"({e})" for e in parts)


@dataclass(frozen=True)
class Request:
    """What a rule can see of a request. Header and cookie names as sent; ``true_expressions`` lists the
    raw expressions this request satisfies."""

    host: str
    path: str = "/"
    method: str = "GET"
    cookies: frozenset[str] = frozenset()
    headers: frozenset[str] = frozenset()
    true_expressions: frozenset[str] = field(default_factory=frozenset)

    @property
    def extension(self) -> str:
        last = self.path.rsplit("/", 1)[-1]
        return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def request_matches(request: Request, hosts: Sequence[str], match: Match) -> bool:
    """Whether ``match_expression(hosts, match)`` is true for ``request``."""
    if request.host not in (match.hosts or hosts):
        return False
    if match.path_prefixes and not any(request.path.startswith(p) for p in match.path_prefixes):
        return False
    if match.paths and not any(glob_matches(g, request.path) for g in match.paths):
        return False
    if match.extensions and request.extension not in match.extensions:
        return False
    if match.methods and request.method not in match.methods:
        return False
    # 'http.cookie contains "name="' also holds for a cookie whose name ends in ``name``: over-matching
    # only ever adds bypasses, so the session guarantee stays safe.
    if match.cookies and not any(sent.endswith(c) for sent in request.cookies for c in match.cookies):
        return False
    if match.headers and not {h.lower() for h in request.headers} & set(match.headers):
        return False
    if match.expression and match.expression not in request.true_expressions:
        return False
    return True
