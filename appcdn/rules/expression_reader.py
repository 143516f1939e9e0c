"""A rules expression written by someone else (the dashboard, another tool), evaluated on a ``Request``.

Only the part of Cloudflare's rules language that a cache rule on a host and a path usually says is
understood: ``http.host``, ``http.request.uri.path`` (and ``.extension``), ``http.request.uri``,
``http.request.full_uri``, ``http.request.method`` and ``http.cookie`` compared with ``eq``/``==``,
``ne``/``!=``, ``contains``, ``wildcard``, ``strict wildcard``, ``in {…}``, ``starts_with``, ``ends_with``,
``lower``; ``any(…)`` over ``http.request.uri.args.names[*]`` or ``http.request.headers.names[*]`` (through
``lower`` or ``url_decode``, which decodes ``+`` and ``%XX`` once); ``has_key(http.request.headers, "…")``
(its keys are lower case) and ``http.request.headers.truncated``; joined by ``and``/``or``/``not`` and
parentheses. That is every expression appcdn emits. Anything else is *unknown*, and so is a whole
expression that does not parse. Logic is three-valued (Kleene): ``unknown and false`` is false, so a rule
for another host is still known not to apply. Semantics: https://developers.cloudflare.com/ruleset-engine/rules-language/
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus

from appcdn.rules.expressions import Request
from appcdn_django.globs import glob_matches

Truth = bool | None
"""True, False, or None for unknown."""

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)*(?:/\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||\[\*\]|\[\d+\]|[(){},!<>~])'
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.\[\]*]*))"
)


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r}")
        tokens.append(found.group().strip())
        pos = found.end()
    return tokens


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _field_value(name: str, request: Request) -> str | None:
    if name == "http.host":
        return request.host
    if name in ("http.request.uri.path", "http.request.uri"):
        return request.path
    if name == "http.request.full_uri":
        return f"https://{request.host}{request.path}"
    if name == "http.request.uri.path.extension":
        return request.extension
    if name == "http.request.method":
        return request.method
    if name == "http.cookie":
        return request.cookie_header
    return None


def _array_field(name: str, request: Request) -> tuple[list[str], bool] | None:
    """An array field's values, and whether Cloudflare has all of them (a truncated header list may not)."""
    if name == "http.request.uri.args.names":
        return sorted(request.query_args), True
    if name == "http.request.headers.names":
        return sorted(request.headers), not request.headers_truncated
    return None


Value = Callable[[Request], str | None]
Values = Callable[[Request], tuple[list[str], bool] | None]
Predicate = Callable[[Request], Truth]
_ARRAY_FUNCTIONS: dict[str, Callable[[str], str]] = {"lower": str.lower, "url_decode": unquote_plus}


@dataclass
class _Parser:
    tokens: list[str]
    pos: int = 0
    paths: tuple[tuple[str, str], ...] = ()
    """(operator, literal) of every comparison on the path, for the path classes the rule singles out."""

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'more'} at {token!r}")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() in ("or", "||"):
            self.take()
            left = _or(left, self.conjunction())
        return left

    def conjunction(self) -> Predicate:
        left = self.negation()
        while self.peek() in ("and", "&&"):
            self.take()
            left = _and(left, self.negation())
        return left

    def negation(self) -> Predicate:
        if self.peek() in ("not", "!"):
            self.take()
            inner = self.negation()
            return lambda r: None if (v := inner(r)) is None else not v
        return self.primary()

    def primary(self) -> Predicate:
        token = self.peek()
        if token == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        if token in ("true", "false"):
            constant: Truth = self.take() == "true"
            return lambda r: constant
        if token in ("starts_with", "ends_with"):
            return self.string_function(self.take())
        if token in ("any", "has_key"):
            start = self.pos
            try:
                return self.any_of_array() if token == "any" else self.has_key()
            except ValueError:
                self.pos = start
                return self.unknown_function()
        if token == "http.request.headers.truncated" and self.tokens[self.pos + 1 : self.pos + 2] != ["eq"]:
            self.take()
            return lambda r: r.headers_truncated
        if token not in ("lower", None) and self.tokens[self.pos + 1 : self.pos + 2] == ["("]:
            return self.unknown_function()
        return self.comparison()

    def has_key(self) -> Predicate:
        """``has_key(http.request.headers, "name")``: the header map's keys are the names in lower case."""
        self.take("has_key")
        self.take("(")
        self.take("http.request.headers")
        self.take(",")
        name = self.literal()
        self.take(")")

        def holds(r: Request) -> Truth:
            if name in {h.lower() for h in r.headers}:
                return None if r.headers_truncated else True  # may be among the headers Cloudflare dropped
            return None if r.headers_truncated else False

        return holds

    def any_of_array(self) -> Predicate:
        """``any(<array>[*] <operator> <value>)``: true when some element compares true."""
        self.take("any")
        self.take("(")
        values = self.array_value()
        compare = self.element_comparison()
        self.take(")")

        def holds(r: Request) -> Truth:
            got = values(r)
            if got is None:
                return None
            elements, complete = got
            if any(compare(e) for e in elements):
                return True
            return False if complete else None

        return holds

    def array_value(self) -> Values:
        """``field[*]``, or ``lower(…)[*]`` / ``url_decode(…)[*]`` of one."""
        token = self.take()
        if token in _ARRAY_FUNCTIONS:
            function = _ARRAY_FUNCTIONS[token]
            self.take("(")
            inner = self.array_value()
            self.take(")")
            self.take("[*]")

            def mapped(r: Request) -> tuple[list[str], bool] | None:
                got = inner(r)
                return None if got is None else ([function(v) for v in got[0]], got[1])

            return mapped
        if not token.endswith("[*]") or _array_field(token[:-3], Request(host="")) is None:
            raise ValueError(f"unsupported array {token!r}")
        return lambda r: _array_field(token[:-3], r)

    def element_comparison(self) -> Callable[[str], bool]:
        operator = self.take()
        if operator == "in":
            self.take("{")
            options = []
            while self.peek() != "}":
                options.append(self.literal())
            self.take("}")
            return lambda v: v in options
        compare = _COMPARISONS.get(operator)
        if compare is None:
            raise ValueError(f"unsupported operator {operator!r}")
        literal = self.literal()
        return lambda v: compare(v, literal)

    def unknown_function(self) -> Predicate:
        """A function this module does not evaluate (``any(…)``, ``len(…) gt 0``): skipped, unknown."""
        self.take()
        self.balanced("(", ")")
        if self.peek() not in (None, ")", "and", "&&", "or", "||"):
            self.take()
            self.operand()
        return lambda r: None

    def balanced(self, opening: str, closing: str) -> None:
        self.take(opening)
        depth = 1
        while depth:
            token = self.take()
            depth += (token == opening) - (token == closing)

    def operand(self) -> None:
        if self.peek() == "{":
            self.balanced("{", "}")
        else:
            self.take()

    def string_function(self, name: str) -> Predicate:
        self.take("(")
        value, field = self.value()
        self.take(",")
        literal = self.literal()
        self.take(")")
        if field == "http.request.uri.path" and name == "starts_with":
            self.paths += (("starts_with", literal),)

        def holds(r: Request) -> Truth:
            got = value(r)
            if got is None:
                return None
            return got.startswith(literal) if name == "starts_with" else got.endswith(literal)

        return holds

    def literal(self) -> str:
        """A string literal, unquoted; a number or an address as written."""
        token = self.take()
        if token.startswith('"'):
            return _unquote(token)
        if re.fullmatch(r"-?\d[\d./]*", token):
            return token
        raise ValueError(f"expected a value at {token!r}")

    def value(self) -> tuple[Value, str]:
        token = self.take()
        if token == "lower":
            self.take("(")
            inner, field = self.value()
            self.take(")")
            return (lambda r: None if (v := inner(r)) is None else v.lower()), field
        if not re.fullmatch(r"[a-z_][a-z0-9_.]*", token):
            raise ValueError(f"unsupported field {token!r}")
        return (lambda r: _field_value(token, r)), token

    def comparison(self) -> Predicate:
        value, field = self.value()
        operator = self.take()
        if operator == "strict":
            operator = "strict " + self.take("wildcard")
        if operator == "in":
            self.take("{")
            options = []
            while self.peek() != "}":
                options.append(self.literal())
            self.take("}")
            return lambda r: None if (v := value(r)) is None else v in options
        compare = _COMPARISONS.get(operator)
        if compare is None:  # matches, ~, lt, gt…: read past it, unknown
            self.operand()
            return lambda r: None
        literal = self.literal()
        if field == "http.request.uri.path":
            self.paths += ((operator, literal),)
        return lambda r: None if (v := value(r)) is None else compare(v, literal)


_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda v, lit: v == lit,
    "==": lambda v, lit: v == lit,
    "ne": lambda v, lit: v != lit,
    "!=": lambda v, lit: v != lit,
    "contains": lambda v, lit: lit in v,
    "strict wildcard": lambda v, lit: glob_matches(lit, v),
    "wildcard": lambda v, lit: glob_matches(lit.lower(), v.lower()),
}


def _and(a: Predicate, b: Predicate) -> Predicate:
    def both(r: Request) -> Truth:
        x, y = a(r), b(r)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return both


def _or(a: Predicate, b: Predicate) -> Predicate:
    def either(r: Request) -> Truth:
        x, y = a(r), b(r)
        if x is True or y is True:
            return True
        return None if x is None or y is None else False

    return either


@dataclass(frozen=True)
class ParsedExpression:
    """An expression, and what of it can be evaluated."""

    text: str
    predicate: Predicate | None
    """None when the expression is outside the understood part of the language."""
    path_patterns: tuple[tuple[str, str], ...] = ()
    """(operator, literal) of its comparisons on the URI path."""

    def matches(self, request: Request) -> Truth:
        return None if self.predicate is None else self.predicate(request)

    def path_globs(self) -> list[str]:
        """The path classes the expression singles out, as globs (``/blog/*``)."""
        globs = []
        for operator, literal in self.path_patterns:
            if operator == "starts_with":
                globs.append(literal + "*")
            elif operator in ("eq", "==", "wildcard", "strict wildcard"):
                globs.append(literal)
        return list(dict.fromkeys(globs))


@lru_cache(maxsize=4096)
def parse(text: str) -> ParsedExpression:
    """``text`` parsed; an expression that cannot be read is kept, with no predicate."""
    parser = _Parser(_tokens_or_none(text))
    try:
        predicate = parser.expression()
        if parser.peek() is not None:
            raise ValueError(f"unexpected {parser.peek()!r}")
    except ValueError:
        return ParsedExpression(text, None)
    return ParsedExpression(text, predicate, parser.paths)


def _tokens_or_none(text: str) -> list[str]:
    try:
        return _tokens(text)
    except ValueError:
        return ["\0unreadable"]
