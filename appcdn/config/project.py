"""Every stack file of a project, read and checked together, so that each fact lives in exactly one file.

A zone is declared once, in its owner's stack file; each stage declares its own sites (hosts, cache
policy, images, media) in its own file. The zone's owner composes the edge rules of every stage's sites
on the zone from their own files, so a change to ``Pulumi.test.yaml`` shows in the owner's plan, and no
stage's facts are repeated anywhere else.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from appcdn.config.fields import NAMESPACE, STAGES, Stage
from appcdn.config.media import media_hosts
from appcdn.config.messages import SecretTest
from appcdn.config.problems import ConfigError, Problem
from appcdn.config.pulumi_yaml.stack_yaml import Span
from appcdn.config.stack import DeclaredZone, ParsedStack, Site, StackConfig, parse_structure, stack_problems
from appcdn.config.zones import ZoneConfig


@dataclass(frozen=True)
class StackSource:
    """One stack's ``appcdn`` namespace as read (keys without the prefix), and where it came from."""

    stack: str
    namespace: Mapping[str, Any]
    secret_keys: Collection[str] = ()
    """The stack's secret config keys, full (``appcdn:sites``)."""
    file: str | None = None
    """The stack file, for messages (``stacks/Pulumi.test.yaml``)."""
    secret_paths: Collection[str] | None = None
    """Paths inside the namespace of the values written as secrets, when known (the stack file read offline);
    None: only whole keys are known to be secret (``secret_keys``, as the engine tells a program)."""
    spans: Mapping[str, Span] = field(default_factory=dict)
    """Where each path is written in the file, when it was read from disk."""

    def secrets(self) -> list[str]:
        """The paths known to be secret: each secret value, or each secret key as a whole."""
        if self.secret_paths is not None:
            return list(self.secret_paths)
        prefix = NAMESPACE + ":"
        return [key[len(prefix) :] for key in self.secret_keys if key.startswith(prefix)]


@dataclass(frozen=True)
class Project:
    """The stack being deployed (``stage``) and every other stack of the project, validated together."""

    stage: Stage
    stacks: Mapping[Stage, StackConfig]
    files: Mapping[Stage, str | None] = field(default_factory=dict)

    @property
    def config(self) -> StackConfig:
        """The config of the stack being deployed."""
        return self.stacks[self.stage]

    def zone(self, name: str) -> ZoneConfig:
        return self.stacks[self.zone_owner(name)].zones[name]

    def zone_owner(self, name: str) -> Stage:
        return next(stage for stage, config in self.stacks.items() if name in config.zones)

    def owns(self, zone_name: str) -> bool:
        return zone_name in self.config.zones

    def zones_in_use(self) -> list[str]:
        """The zones this stack owns or serves sites on, in a fixed order."""
        return sorted(set(self.config.zones) | {s.zone for s in self.config.sites})

    def sites_on(self, zone_name: str) -> list[tuple[Stage, Site]]:
        """Every stage's sites on the zone, stages in a fixed order (test, live)."""
        return [
            (stage, site)
            for stage in STAGES
            if stage in self.stacks
            for site in self.stacks[stage].sites
            if site.zone == zone_name
        ]


def _host_problems(stacks: Mapping[Stage, ParsedStack], files: Mapping[Stage, str | None]) -> Iterable[Problem]:
    """A host is served by one site on one stage."""
    seen: dict[str, tuple[str, Stage]] = {}
    for stage in STAGES:
        if stage not in stacks:
            continue
        for i, site in stacks[stage].sites:
            for key, hosts in (("hosts", site.hosts), ("media.domain.host", media_hosts(site.media))):
                for host in hosts:
                    if host in seen:
                        name, other = seen[host]
                        where = f"{other}, {files[other]}" if files[other] != files[stage] else other
                        yield Problem(
                            f"sites[{i}].{key}", f"{host!r} is already served by site {name} ({where})", files[stage]
                        )
                    seen[host] = (site.name, stage)


def _storage_problems(stacks: Mapping[Stage, ParsedStack], files: Mapping[Stage, str | None]) -> Iterable[Problem]:
    """S3 bucket names and Azure storage account names are global: one site on one stage each.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html,
    https://learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name"""
    seen: dict[tuple[str, str], tuple[str, Stage]] = {}
    for stage in STAGES:
        for i, site in stacks[stage].sites if stage in stacks else ():
            media = site.media
            if media is None:
                continue
            key, name = (
                ("aws.bucket_name", media.aws.bucket_name)
                if media.backend == "aws"
                else ("azure.account_name", media.azure.account_name)
            )
            if name is None:
                continue
            if (key, name) in seen:
                other, other_stage = seen[(key, name)]
                where = f"{other_stage}, {files[other_stage]}" if files[other_stage] != files[stage] else other_stage
                yield Problem(
                    f"sites[{i}].media.{key}",
                    f"{name!r} is also the storage of site {other} ({where}); each site and stage needs its own",
                    files[stage],
                )
            else:
                seen[(key, name)] = (site.name, stage)


def locate(problems: Iterable[Problem], sources: Sequence[StackSource]) -> list[Problem]:
    """Each problem at the line and column of its path in its file, where the file was read from disk."""
    spans = {source.file: source.spans for source in sources}
    return [problem.in_file(problem.file, spans.get(problem.file)) for problem in problems]


def secret_test(source: StackSource) -> SecretTest:
    """Whether a path of the source's namespace was given as a secret, or lies inside one."""
    secrets = source.secrets()
    return lambda path: any(path == s or path.startswith((f"{s}.", f"{s}[")) for s in secrets)


def load_project(own: StackSource, peers: Sequence[StackSource] = ()) -> Project:
    """Validate the stack being deployed together with the project's other stacks; every problem of every
    file is reported at once (ConfigError), each with its file and key path."""
    problems: list[Problem] = []
    stacks: dict[Stage, ParsedStack] = {}
    files: dict[Stage, str | None] = {}
    sources: dict[Stage, StackSource] = {}
    zones: dict[str, DeclaredZone] = {}
    own_stage: Stage | None = None
    for source in (own, *peers):
        parsed = parse_structure(source.namespace, source.stack, source.spans, secret_test(source))
        problems += [p.in_file(source.file) for p in parsed.problems]
        for name, zone in [*parsed.zones.items(), *((name, None) for name in parsed.broken_zones)]:
            if name in zones:
                problems.append(
                    Problem(
                        f"zones.{name}",
                        f"also declared in {zones[name][2]}; a zone is declared in exactly one stack file, its owner's",
                        source.file,
                    )
                )
            else:
                zones[name] = (zone, parsed.stage, source.file)
        if parsed.stage is None:
            problems += [
                p.in_file(source.file)
                for p in stack_problems(parsed, zones, secret_test(source))
                if p.path.startswith("zones.")
            ]
            continue
        if source.stack in STAGES and parsed.stage != source.stack:
            problems.append(
                Problem(
                    "stage",
                    f"is {parsed.stage!r} in the {source.stack} stack's own file: a stack "
                    f"named like a stage is that stage; remove appcdn:stage or write "
                    f"{source.stack}",
                    source.file,
                )
            )
            continue
        if parsed.stage in stacks:
            problems.append(
                Problem(
                    "stage",
                    f"{parsed.stage!r} is also the stage of {files[parsed.stage]}; each stage has one stack file",
                    source.file,
                )
            )
            continue
        stacks[parsed.stage], files[parsed.stage], sources[parsed.stage] = parsed, source.file, source
        if source is own:
            own_stage = parsed.stage
    for stage, parsed in stacks.items():
        problems += [p.in_file(files[stage]) for p in stack_problems(parsed, zones, secret_test(sources[stage]))]
    problems += _host_problems(stacks, files)
    problems += _storage_problems(stacks, files)
    if problems or own_stage is None:
        raise ConfigError(locate(problems, [own, *peers]))
    return Project(own_stage, {stage: parsed.config() for stage, parsed in stacks.items()}, files)


def parse_stack_config(raw: Mapping[str, Any], stack_name: str, secret_keys: Collection[str] = ()) -> StackConfig:
    """One stack file on its own (a project of one stack): validated, or ConfigError."""
    return load_project(StackSource(stack_name, raw, secret_keys)).config
