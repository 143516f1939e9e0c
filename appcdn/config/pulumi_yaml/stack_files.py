"""A project's stack files (``Pulumi.<stack>.yaml`` in its ``stackConfigDir``), read offline as the Pulumi CLI
reads them, so that what the plan shows is what deploys.

The CLI (sdk/go/common/workspace/loaders.go ``LoadProjectStackBytes``) decodes the file with go-yaml v3 into
Go values (``stack_yaml``), prefixes bare keys with the project's name, re-encodes and decodes it, and makes each
config value a ``config.Value`` (sdk/go/common/resource/config/object.go): a string stays its text, a number
or boolean becomes its JSON text, null becomes "" (decode.go:407-409 skips the unmarshaler), maps and lists
become JSON; the program receives those strings. ``secure:`` values are never decrypted here: they become
``[secret]``, their key is secret, and the exact path of each one is kept (``StackFile.secret_paths``).
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appcdn.config.fields import NAMESPACE
from appcdn.config.problems import ConfigError, Problem
from appcdn.config.project import StackSource
from appcdn.config.pulumi_yaml.go_yaml import INT64_MAX, INT64_MIN, GoTime, go_json_float
from appcdn.config.pulumi_yaml.stack_yaml import MAX_FILE_BYTES, Decoder, Node, Span, YamlProblem, compose

SECRET_PLACEHOLDER = "[secret]"
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
"""The keys of a stack file Pulumi reads (sdk/go/common/workspace/project.go ``ProjectStack``)."""
PROVIDER_SECRETS = ("cloudflare:apiToken", "cloudflare:apiKey", "aws:secretKey", "azure-native:clientSecret")


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    label: str
    """The file's path relative to the project, for messages."""
    config: dict[str, str]
    """Pulumi config as the engine passes it: ``namespace:key`` → string (objects as JSON)."""
    secret_keys: list[str]
    secret_paths: list[str] = field(default_factory=list)
    """Where each ``secure:`` value is inside the ``appcdn`` namespace (``sites[0].certificates[0].private_key``)."""
    spans: dict[str, Span] = field(default_factory=dict)
    """Namespace path (or ``namespace:key`` outside ``appcdn``) → where it is written."""
    warnings: list[Problem] = field(default_factory=list)

    def source(self) -> StackSource:
        """The ``appcdn`` namespace of the file, for the config model."""
        return StackSource(
            self.stack, namespace_values(self.config), self.secret_keys, self.label, self.secret_paths, self.spans
        )


def namespace_values(config: dict[str, str]) -> dict[str, Any]:
    """The ``appcdn:`` keys without the prefix, JSON values decoded."""
    prefix = NAMESPACE + ":"
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith(prefix):
            try:
                out[key[len(prefix) :]] = json.loads(value)
            except ValueError:
                out[key[len(prefix) :]] = value
    return out


def _is_secure(value: object) -> bool:
    """object.go ``isSecureValue``: a map whose one key is ``secure``, with a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _json_ready(value: object, path: str, secrets: list[str]) -> object:
    """A nested value as the program receives it after Pulumi's JSON round trips (object.go ``MarshalJSON``,
    then ``UnmarshalJSON`` with ``UseNumber``): ints beyond int64 become float64; every number prints as Go's
    ``encoding/json`` does, so whole floats below 1e21 arrive as ints."""
    if _is_secure(value):
        secrets.append(path)
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _json_ready(v, f"{path}.{k}", secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        value = float(value)
    if isinstance(value, float):
        return json.loads(go_json_float(value))
    return value


def _finite(value: object, path: str, spans: dict[str, Span], label: str) -> None:
    """Go's JSON encoder refuses NaN and infinities, so Pulumi cannot load a stack file holding one."""
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{path}.{k}", spans, label)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, f"{path}[{i}]", spans, label)
    elif isinstance(value, float) and not math.isfinite(value):
        span = spans.get(path)
        raise ConfigError(
            [
                Problem(
                    path,
                    f"{span.text if span else value} is not a number Pulumi can pass on (json: "
                    "unsupported value); quote it if it is meant as text",
                    label,
                    span.line if span else None,
                    span.column if span else None,
                )
            ]
        )


def config_value(value: object, path: str, secrets: list[str]) -> str:
    """object.go ``MarshalString``: the string the program receives for one config key."""
    if value is None:
        return ""
    if _is_secure(value):
        secrets.append(path)
        return SECRET_PLACEHOLDER
    if isinstance(value, str):
        return value
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        value = int(value)  # re-encoded as "%g" and decoded again as an int (loaders.go:219, encode.go:391-408)
    if isinstance(value, (bool, int, float)):
        return json.dumps(value) if not isinstance(value, float) else go_json_float(value)
    return json.dumps(_json_ready(value, path, secrets), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def config_key(key: str, project: str) -> str | None:
    """loaders.go ``stackConfigNamespacedWithProject`` then config/key.go ``ParseKey``; None if Pulumi refuses it."""
    full = key if ":" in key else f"{project}:{key}"
    parts = full.split(":")
    if len(parts) == 2:
        return full
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    return None


_NOT_A_FILE = (
    (stat.S_ISDIR, "Is a directory"),
    (stat.S_ISFIFO, "it is a FIFO (named pipe), not a plain file"),
    (stat.S_ISCHR, "it is a device, not a plain file"),
    (stat.S_ISBLK, "it is a device, not a plain file"),
    (stat.S_ISSOCK, "it is a socket, not a plain file"),
)
"""What a stack file may not be, and why it is not read (only a plain file, or a link to one, is)."""


def _unreadable(path: Path, err: OSError) -> str:
    """Why the file cannot be opened, in words: a symbolic link says where it points."""
    if path.is_symlink() and err.errno in (errno.ENOENT, errno.ELOOP):
        target = os.readlink(path)
        if err.errno == errno.ELOOP:
            return f"it is a symbolic link to {target!r} that loops back on itself; a stack file is a plain file"
        return f"it is a symbolic link to {target!r}, which does not exist"
    return err.strerror or str(err)


def read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes, at most ``MAX_FILE_BYTES``: only a plain file (or a link to one) is read, opened without
    waiting (a FIFO would block until a writer came), and the reading itself is bounded, since ``st_size`` says
    nothing of what a device or a ``/proc`` file yields."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise ConfigError([Problem("", f"cannot be read: {_unreadable(path, err)}", label)]) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        why = next((why for kind, why in _NOT_A_FILE if kind(mode)), "it is not a plain file")
        raise ConfigError([Problem("", f"cannot be read: {why}", label)])
    with os.fdopen(fd, "rb", buffering=0) as file:
        chunks, size = [], 0
        try:
            while size <= MAX_FILE_BYTES and (chunk := file.read(MAX_FILE_BYTES + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
        except OSError as err:
            raise ConfigError([Problem("", f"cannot be read: {err.strerror}", label)]) from None
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            [Problem("", f"more than {MAX_FILE_BYTES} bytes: a stack file is at most {MAX_FILE_BYTES}", label)]
        )
    return b"".join(chunks)


def read_text(path: Path, label: str) -> str:
    """The file as text: UTF-8 (a BOM is dropped, as loaders.go ``readFileStripUTF8BOM`` does), bounded."""
    data = read_bytes(path, label)
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = len(data[data.rfind(b"\n", 0, err.start) + 1 : err.start].decode("utf-8", "replace")) + 1
        raise ConfigError(
            [Problem("", f"byte 0x{data[err.start]:02x} is not UTF-8; save the file as UTF-8", label, line, column)]
        ) from None


def read_document(path: Path, label: str) -> tuple[Node | None, Decoder]:
    try:
        return compose(read_text(path, label)), Decoder()
    except YamlProblem as err:
        raise ConfigError([Problem("", err.message, label, err.line, err.column)]) from None


def _mapping(node: Node | None, what: str, label: str) -> Node | None:
    if (
        node is not None
        and node.resolved().kind == "scalar"
        and node.resolved().plain
        and node.resolved().text in ("", "~", "null", "Null", "NULL")
    ):
        return None
    if node is not None and node.resolved().kind != "mapping":
        raise ConfigError(
            [
                Problem(
                    "",
                    f"{what} must be a map of keys and values, not a "
                    f"{'list' if node.resolved().kind == 'sequence' else 'single value'}",
                    label,
                    node.line,
                    node.column,
                )
            ]
        )
    return node.resolved() if node is not None else None


def stack_config_dir(project_dir: Path) -> tuple[str, Path]:
    """The project's name and the folder of its stack files."""
    path = project_dir / "Pulumi.yaml"
    root, decoder = read_document(path, "Pulumi.yaml")
    try:
        project = decoder.value(root) if root is not None else None
    except YamlProblem as err:
        raise ConfigError([Problem("", err.message, "Pulumi.yaml", err.line, err.column)]) from None
    if (
        not isinstance(project, dict)
        or not isinstance(project.get("name"), str)
        or not isinstance(project.get("stackConfigDir", "."), str)
    ):
        raise ConfigError(
            [Problem("", "a project file needs a name, and stackConfigDir must be a folder", "Pulumi.yaml")]
        )
    return project["name"], project_dir / project.get("stackConfigDir", ".")


def stack_names(project_dir: Path) -> list[str]:
    _, config_dir = stack_config_dir(project_dir)
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))


def stack_file_path(project_dir: Path, stack: str) -> tuple[Path, str]:
    """The stack's file, and its path relative to the project for messages."""
    _, config_dir = stack_config_dir(project_dir)
    path = config_dir / f"Pulumi.{stack}.yaml"
    return path, str(path.relative_to(project_dir)) if path.is_relative_to(project_dir) else str(path)


def plaintext_secret_message(key: str) -> str:
    return (
        f"is in plain text in the stack file; make it a secret: pulumi config set --secret {key} (then remove "
        "the plain value)"
    )


def _warnings(
    config: dict[str, str], secret_keys: list[str], spans: dict[str, Span], ignored: list[tuple[str, Node]], label: str
) -> list[Problem]:
    found = [
        Problem(key, plaintext_secret_message(key), label, spans[key].line, spans[key].column)
        for key in PROVIDER_SECRETS
        if key in config and key not in secret_keys
    ]
    found += [
        Problem(
            key,
            f"is not a key of a stack file; Pulumi ignores it (the keys are {', '.join(STACK_FILE_KEYS)})",
            label,
            node.line,
            node.column,
        )
        for key, node in ignored
    ]
    return found


def parse_stack_file(text: str, project: str, stack: str, label: str) -> StackFile:
    """One stack file's text, read as the Pulumi CLI reads it; ConfigError with line and column if it cannot."""
    try:
        root = _mapping(compose(text), "a stack file", label)
        decoder, config, secret_keys, secret_paths = Decoder(), {}, [], []
        config_node: Node | None = None
        ignored: list[tuple[str, Node]] = []
        for key, key_node, value in decoder.entries(root) if root is not None else ():
            if key == "config":
                config_node = value
            else:
                decoder.value(value, f"#{key}")  # decoded as Pulumi does, for its errors
                if key not in STACK_FILE_KEYS:
                    ignored.append((key, key_node))
        config_map = _mapping(config_node, "config", label)
        keys: dict[str, Node] = {}
        for key, key_node, value in decoder.entries(config_map) if config_map is not None else ():
            full = config_key(key, project)
            if full is None:
                raise YamlProblem(
                    key_node.line,
                    key_node.column,
                    f"{key!r} is not a config key: Pulumi takes <namespace>:<name>, or <name> for the project's",
                )
            if full in keys:
                raise YamlProblem(
                    key_node.line,
                    key_node.column,
                    f"{key!r} is the config key {full}, already given at line {keys[full].line}",
                )
            keys[full] = key_node
            path = full[len(NAMESPACE) + 1 :] if full.startswith(NAMESPACE + ":") else full
            decoder.spans[path] = key_node.span(value)
            decoded = decoder.value(value, path)
            _finite(decoded, path, decoder.spans, label)
            nested: list[str] = []
            config[full] = config_value(decoded, path, nested)
            if nested:
                secret_keys.append(full)
                secret_paths += nested if full.startswith(NAMESPACE + ":") else []
    except YamlProblem as err:
        raise ConfigError([Problem("", err.message, label, err.line, err.column)]) from None
    warnings = _warnings(config, secret_keys, decoder.spans, ignored, label)
    return StackFile(project, stack, label, config, secret_keys, secret_paths, decoder.spans, warnings)


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    project, _ = stack_config_dir(project_dir)
    path, label = stack_file_path(project_dir, stack)
    if not path.exists() and not path.is_symlink():  # a broken link is a stack whose file cannot be read
        raise FileNotFoundError(
            f"no stack {stack!r}: {path} does not exist (stacks: {', '.join(stack_names(project_dir))})"
        )
    return parse_stack_file(read_text(path, label), project, stack, label)


def read_project(project_dir: Path, stack: str) -> tuple[StackFile, list[StackFile]]:
    """The stack's own file and every other stack file of the project; one ConfigError for all that cannot be
    read (each problem naming its file), FileNotFoundError when the stack has no file."""
    own: StackFile | None = None
    peers: list[StackFile] = []
    problems: list[Problem] = []
    for name in [stack, *(n for n in stack_names(project_dir) if n != stack)]:
        try:
            read = read_stack_file(project_dir, name)
        except ConfigError as err:
            problems += err.problems
            continue
        own, peers = (read, peers) if name == stack else (own, [*peers, read])
    if problems or own is None:
        raise ConfigError(problems)
    return own, peers


def peer_sources(project_dir: Path, own_stack: str) -> list[StackSource]:
    """Every other stack file of the project, read without decrypting anything."""
    problems, sources = [], []
    for name in stack_names(project_dir):
        if name != own_stack:
            try:
                sources.append(read_stack_file(project_dir, name).source())
            except ConfigError as err:
                problems += err.problems
    if problems:
        raise ConfigError(problems)
    return sources
