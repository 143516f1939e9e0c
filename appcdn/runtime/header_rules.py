"""Which headers an object should carry: the first header rule whose glob matches its key.

A rule declares ``Cache-Control`` and, optionally, ``Content-Disposition`` and ``Content-Language``. What a
rule does not declare is the object's own business and is left exactly as stored.

Standard library only (and ``appcdn_django.globs``): the S3 Batch Operations Lambda (``batch_lambda``) ships this
module without pydantic, so rules arrive either as config models (anything with the four fields) or as
plain dicts (``RuleBook.from_dicts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from appcdn_django.globs import glob_matches, literal_prefix


@dataclass(frozen=True)
class Declared:
    """The headers of one rule; ``None``: the rule says nothing and the stored value stays."""

    index: int
    """The rule's position in the site's list (the first match wins)."""
    match: str
    cache_control: str
    content_disposition: str | None = None
    content_language: str | None = None

    @property
    def prefix(self) -> str:
        """Every key the rule can match starts with this ('' for a glob that starts with '*')."""
        return literal_prefix(self.match)

    @classmethod
    def from_dict(cls, index: int, rule: Mapping[str, Any]) -> Declared:
        """An already validated rule as plain values; other keys (``edge_ttl``) are not headers and are ignored."""

        def field(name: str, required: bool) -> Any:
            value = rule.get(name)
            if not isinstance(value, str) and (required or value is not None):
                raise ValueError(f"header rule {dict(rule)!r}: {name} must be a string, not {value!r}")
            return value

        return cls(
            index,
            field("match", True),
            field("cache_control", True),
            field("content_disposition", False),
            field("content_language", False),
        )


@dataclass(frozen=True)
class Stored:
    """The declarable headers an object carries now (``None``: absent)."""

    cache_control: str | None
    content_disposition: str | None = None
    content_language: str | None = None


def is_satisfied(declared: Declared, stored: Stored) -> bool:
    """Whether the object already carries every header its rule declares."""
    return (
        stored.cache_control == declared.cache_control
        and declared.content_disposition in (None, stored.content_disposition)
        and declared.content_language in (None, stored.content_language)
    )


class HeaderFields(Protocol):
    """What a rule book reads of a rule (``appcdn.config.media.HeaderRule`` and ``Declared`` have it)."""

    @property
    def match(self) -> str: ...
    @property
    def cache_control(self) -> str: ...
    @property
    def content_disposition(self) -> str | None: ...
    @property
    def content_language(self) -> str | None: ...


class RuleBook:
    """A site's ordered header rules, ready to answer per key."""

    def __init__(self, rules: Iterable[HeaderFields]):
        self.rules = [
            Declared(i, r.match, r.cache_control, r.content_disposition, r.content_language)
            for i, r in enumerate(rules)
        ]

    @classmethod
    def from_dicts(cls, rules: Sequence[Mapping[str, Any]]) -> RuleBook:
        """From rules as config, a Pulumi input or the Lambda's environment gives them (``{"match": …,
        "cache_control": …}``), already validated against ``appcdn.config.media.HeaderRule``."""
        return cls(Declared.from_dict(i, r) for i, r in enumerate(rules))

    def for_key(self, key: str) -> Declared | None:
        """The first rule matching ``key``; ``None`` when no rule does (the object is left alone)."""
        return next((r for r in self.rules if glob_matches(r.match, key)), None)
