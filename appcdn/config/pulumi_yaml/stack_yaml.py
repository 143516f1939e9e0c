"""A YAML document read as go-yaml v3 reads it into Go values, bounded, with every failure located.

libyaml (PyYAML's C parser, of which go-yaml is a port) turns the text into events; the tree is composed here,
without recursion and without expanding aliases, and decoded with go-yaml v3.0.1's rules (``decode.go``):
duplicate keys are errors (decode.go:769-783), keys must be strings for Pulumi (a map with another key becomes
``map[interface{}]interface{}``, decode.go:789-795, which Pulumi refuses: sdk/go/common/workspace/project.go
``SimplifyMarshalledValue``), ``<<`` merges a map in under the keys already given (decode.go:826-857, :959-996),
aliases are followed (decode.go:533-544). Scalars resolve in ``go_yaml``.

Limits, so that no file costs unbounded time or memory: ``MAX_FILE_BYTES``, ``MAX_DEPTH`` levels of nesting (go-yaml
stops at 10000, scannerc.go:955-1009) and ``MAX_VALUES`` decoded values, which caps alias expansion long before
go-yaml's own ratio rule would (decode.go:455-491, also applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from appcdn.config.pulumi_yaml.go_yaml import SCALAR_TAGS, TagMismatch, resolve, short_tag

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_VALUES = 100_000
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed
_COLLECTION_TAGS = {"mapping": ("!!map", "!"), "sequence": ("!!seq", "!")}
_REFUSED_TAGS = {
    "!!binary": "Pulumi would pass the base64-decoded bytes on as text",
    "!!timestamp": "Pulumi would pass the time on in Go's format (2001-12-14 00:00:00 +0000 UTC); quote the text",
}


class YamlProblem(Exception):
    def __init__(self, line: int, column: int, message: str):
        super().__init__(f"{line}:{column}: {message}")
        self.line, self.column, self.message = line, column, message


@dataclass(frozen=True)
class Span:
    """Where a value is in the file (1-based; a map entry's key, a list item), and the text it was written as."""

    line: int
    column: int
    text: str | None = None
    """A scalar's text as written (without quotes); None for maps and lists."""
    plain: bool = False
    """Unquoted and untagged: resolved by go-yaml's rules (``on`` is text, ``true`` a boolean, ``1.2`` a number)."""


@dataclass(eq=False)
class Node:
    kind: str  # scalar | mapping | sequence | alias
    line: int
    column: int
    tag: str = ""
    text: str = ""
    """A scalar's text; an alias's anchor name."""
    plain: bool = False
    items: list[Node] = field(default_factory=list)
    """A sequence's items; a mapping's keys and values, alternating."""
    target: Node | None = None

    def resolved(self) -> Node:
        return self.target if self.kind == "alias" and self.target is not None else self

    def span(self, value: Node | None = None) -> Span:
        shown = (value or self).resolved()
        if shown.kind != "scalar":
            return Span(self.line, self.column)
        return Span(self.line, self.column, shown.text, shown.plain and not shown.tag)


def _checked_tag(event: yaml.NodeEvent, kind: str, line: int, column: int) -> str:
    tag = short_tag(getattr(event, "tag", None) or "")
    allowed = _COLLECTION_TAGS.get(kind, (*SCALAR_TAGS, "!"))
    if tag and tag not in allowed:
        why = _REFUSED_TAGS.get(tag, "Pulumi ignores such tags and reads the value as plain text")
        raise YamlProblem(line, column, f"the tag {tag} is not allowed in a stack file ({why}); remove it")
    return "" if tag == "!" else tag  # decode.go:170-179: the non-specific tag is no tag


def _problem(err: yaml.YAMLError, text: str) -> YamlProblem:
    """libyaml's error as a located problem, in plain words."""
    mark = getattr(err, "problem_mark", None)
    if mark is None and hasattr(err, "position"):  # ReaderError: a character YAML does not allow
        before = text[: err.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        character = chr(err.character) if isinstance(err.character, int) else err.character
        return YamlProblem(line, column, f"character {character!r} is not allowed in YAML")
    problem = getattr(err, "problem", None) or str(err)
    lines = text.splitlines()
    at = lines[mark.line][mark.column : mark.column + 1] if mark is not None and mark.line < len(lines) else ""
    if at == "\t":
        problem += " (a tab: YAML indents with spaces only)"
    elif mark is not None and mark.index >= len(text.rstrip()):
        problem += " (the file ends inside a [list] or {map}: a bracket is not closed?)"
    elif "mapping values are not allowed" in problem:
        problem += " (check the indentation of this line against the line above, or quote a value with ': ' in it)"
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None:
        problem += f", {context} at {context_mark.line + 1}:{context_mark.column + 1}"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return YamlProblem(line, column, problem)


def compose(text: str) -> Node | None:
    """The first document's tree, or None for an empty file. A second document is an error: Pulumi reads
    only the first (go-yaml's ``Unmarshal``, yaml.go:156-173) and would silently ignore it."""
    root: Node | None = None
    stack: list[Node] = []
    anchors: dict[str, Node] = {}
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_PARSER):
            line, column = event.start_mark.line + 1, event.start_mark.column + 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem(
                        line,
                        column,
                        "a second YAML document: Pulumi reads only the first one of a "
                        "stack file and ignores the rest; remove it",
                    )
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            if isinstance(event, yaml.AliasEvent):
                target = anchors.get(event.anchor)
                if target is None:
                    raise YamlProblem(line, column, f"unknown anchor {event.anchor!r} referenced")
                if any(open_node is target for open_node in stack):  # decode.go:534-537
                    raise YamlProblem(line, column, f"anchor {event.anchor!r} value contains itself")
                node = Node("alias", line, column, text=event.anchor, target=target)
            elif isinstance(event, yaml.ScalarEvent):
                node = Node(
                    "scalar",
                    line,
                    column,
                    _checked_tag(event, "scalar", line, column),
                    event.value,
                    plain=not event.style,
                )
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = "mapping" if isinstance(event, yaml.MappingStartEvent) else "sequence"
                node = Node(kind, line, column, _checked_tag(event, kind, line, column))
            else:
                continue
            if getattr(event, "anchor", None) and node.kind != "alias":
                anchors[event.anchor] = node  # a later anchor of the same name wins (parserc.go)
            if stack:
                stack[-1].items.append(node)
            else:
                root = node
            if node.kind in ("mapping", "sequence"):
                stack.append(node)
                if len(stack) > MAX_DEPTH:
                    raise YamlProblem(
                        line, column, f"nested deeper than {MAX_DEPTH} levels; a stack file needs far fewer"
                    )
    except yaml.YAMLError as err:
        raise _problem(err, text) from None
    return root


def key_tag(node: Node) -> str:
    """The tag go-yaml gives a map key (yaml.go:435-461, ``ShortTag``)."""
    node = node.resolved()
    if node.kind != "scalar":
        return "!!map" if node.kind == "mapping" else "!!seq"
    if node.tag == "!!str" or not node.plain:
        return "!!str"
    if not node.tag:
        return "!!merge" if node.text == "<<" else resolve(node.text)[0]  # decode.go:239-242
    return node.tag


class Decoder:
    """Decodes nodes into Go values (str, bool, None, int, float, GoTime, list, dict), recording a ``Span`` for
    every path, within ``MAX_VALUES`` and ``MAX_DEPTH`` however aliases nest."""

    def __init__(self) -> None:
        self.spans: dict[str, Span] = {}
        self._count = self._alias_count = 0
        self._aliases: list[Node] = []

    def entries(self, node: Node) -> Iterator[tuple[str, Node, Node]]:
        """A mapping's (key, key node, value node), explicit keys first, then merged ones not already given."""
        items = node.items
        keys = items[0::2]
        for j, later in enumerate(keys):
            for earlier in keys[:j]:
                if (earlier.kind, earlier.text) == (later.kind, later.text):
                    raise YamlProblem(
                        later.line,
                        later.column,
                        f"mapping key {later.resolved().text!r} already defined at line {earlier.line}",
                    )
        merges: list[Node] = []
        for key, value in zip(keys, items[1::2]):
            tag = key_tag(key)
            if tag == "!!merge":
                merges.append(value)
                continue
            if tag != "!!str":
                shown = key.resolved().text if key.resolved().kind == "scalar" else tag
                raise YamlProblem(
                    key.line,
                    key.column,
                    f"the key {shown} is read as {tag[2:]}; Pulumi accepts only "
                    "text keys (it stops with 'expected only string keys'): "
                    "quote it",
                )
            yield key.resolved().text, key, value
        given = {key.resolved().text for key in keys}
        for merge in merges:
            sources = merge.resolved().items if merge.resolved().kind == "sequence" else [merge]
            for source in sources:
                if source.resolved().kind != "mapping":
                    raise YamlProblem(
                        merge.line, merge.column, "map merge requires map or sequence of maps as the value"
                    )
                for name, key, value in self.entries(source.resolved()):
                    if name not in given:
                        given.add(name)
                        yield name, key, value

    def value(self, node: Node, path: str = "", depth: int = 0) -> object:
        self._count += 1
        self._alias_count += 1 if self._aliases else 0
        at = self._aliases[0] if self._aliases else node  # an expansion is reported where it starts
        if self._count > MAX_VALUES or depth > MAX_DEPTH:
            raise YamlProblem(
                at.line,
                at.column,
                f"expands to more than {MAX_VALUES} values or {MAX_DEPTH} levels "
                "(through aliases?); a stack file needs far fewer",
            )
        if self._alias_count > 100 and self._count > 1000 and self._alias_count / self._count > 0.99:
            raise YamlProblem(
                at.line, at.column, "document contains excessive aliasing (aliases expand to most of its values)"
            )  # decode.go:489-491
        if node.kind == "alias" and node.target is not None:
            self._aliases.append(node)
            try:
                return self.value(node.target, path, depth)
            finally:
                self._aliases.pop()
        if node.kind == "scalar":
            if node.tag == "!!str" or (not node.plain and not node.tag):  # yaml.go:463-467
                return node.text
            try:
                return resolve(node.text, node.tag)[1]
            except TagMismatch as err:
                raise YamlProblem(node.line, node.column, str(err)) from None
        if node.kind == "sequence":
            out = []
            for i, item in enumerate(node.items):
                self.spans[f"{path}[{i}]"] = item.span()
                out.append(self.value(item, f"{path}[{i}]", depth + 1))
            return out
        mapping: dict[str, object] = {}
        for name, key, value in self.entries(node):
            child = f"{path}.{name}" if path else name
            self.spans[child] = key.span(value)
            mapping[name] = self.value(value, child, depth + 1)
        return mapping
