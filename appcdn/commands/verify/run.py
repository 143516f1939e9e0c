"""``appcdn verify``: each row of the stack's behaviour table checked against what the edge does (``cases``,
``client``, ``judge``). Exit 0 when every row agrees or cannot tell, 1 on a disagreement, 3 when the edge
could not be reached (2, invalid config, is the command line's).

The rows with safety requests (a session cookie, ``Authorization``, an admin or CMS editing path or
argument) are checked first, so a ``--max-requests`` budget never leaves them out."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from appcdn.behaviour.table import BehaviourRow, behaviour_rows, terms_text
from appcdn.commands.plan.table_text import shown_terms
from appcdn.commands.verify.cases import Case, CaseBuilder, case_requests
from appcdn.commands.verify.client import Client, Edge
from appcdn.commands.verify.judge import CANNOT_TELL, Exchange, Finding, judge, stored_object
from appcdn.commands.verify.report import RowResult, text
from appcdn.config.media import HeaderRule, media_hosts
from appcdn.config.project import Project
from appcdn.defaults import AZURE_PUBLIC_CONTAINER, SESSION_COOKIES
from appcdn.rules.rulesets import CompiledRule, ZoneRules, site_stages

EXIT_DISAGREES = 1
EXIT_UNREACHABLE = 3


@dataclass(frozen=True)
class Options:
    stack: str
    edge: Edge
    as_json: bool = False
    safety_only: bool = False
    max_requests: int = 300
    rate: float = 10.0


def _cache_rules(compiled: Mapping[str, ZoneRules]) -> dict[str, Sequence[CompiledRule]]:
    return {host: zone.cache for zone in compiled.values() for rule in zone.cache for host in rule.hosts}


def _media(project: Project, compiled: Mapping[str, ZoneRules]) -> dict[str, tuple[list[HeaderRule], str | None]]:
    """Media host → its header rules and the container its paths start with (Azure)."""
    found = {}
    for zone_name in compiled:
        for ss in site_stages(project, zone_name):
            if ss.media is not None:
                container = AZURE_PUBLIC_CONTAINER if ss.media.backend == "azure" else None
                for host in media_hosts(ss.media):
                    found[host] = (list(ss.media.headers), container)
    return found


def _session_cookies(project: Project) -> set[str]:
    return {c for config in project.stacks.values() for s in config.sites for c in s.cache.session_cookies} | set(
        SESSION_COOKIES
    )


class Verifier:
    def __init__(self, project: Project, compiled: Mapping[str, ZoneRules], options: Options):
        self.options = options
        self.run = secrets.token_hex(4)
        self.media = _media(project, compiled)
        self.builder = CaseBuilder(_cache_rules(compiled), self.media, _session_cookies(project), self.run)
        self.client = Client(options.edge, options.rate)
        self.errors = 0
        self.answered = 0

    def exchanges(self, case: Case) -> list[Exchange]:
        steps = [("first", case.target)]
        steps += [("repeat", case.target)] * case.repeat
        steps += [("key", case.with_key_argument())] * (case.key_argument is not None)
        done: list[Exchange] = []
        for step, target in steps:
            try:
                answer = self.client.send(case.request.method, case.request.host, target, case.headers)
            except OSError as err:
                self.errors += 1
                done.append(Exchange(step, case.request.method, target, None, str(err) or type(err).__name__))
                break
            self.answered += 1
            done.append(Exchange(step, case.request.method, target, answer))
        return done

    def findings(self, case: Case, row: BehaviourRow) -> list[Finding]:
        exchanges = self.exchanges(case)
        found = judge(case, row, exchanges)
        media = self.media.get(case.request.host)
        if media is not None and exchanges[-1].answer is not None:
            found += stored_object(case, row, exchanges, *media)
        return found

    def check(self, rows: Sequence[BehaviourRow]) -> list[RowResult]:
        words = [terms_text(terms) for terms in shown_terms(rows)]
        planned = [(i, row, self.builder.cases(i, row)) for i, row in enumerate(rows)]
        if self.options.safety_only:
            planned = [(i, row, [c for c in cases if c.safety]) for i, row, cases in planned]
            planned = [p for p in planned if p[2]]
        planned.sort(key=lambda p: (not any(c.safety for c in p[2]), p[0]))
        budget = self.options.max_requests
        results = []
        for index, row, cases in planned:
            findings: list[Finding] = []
            sent = self.client.sent
            for case in sorted(cases, key=lambda c: not c.safety):
                if case_requests(case) > budget:
                    findings.append(
                        Finding(CANNOT_TELL, case, f"not sent: --max-requests {self.options.max_requests} reached")
                    )
                    continue
                budget -= case_requests(case)
                findings += self.findings(case, row)
            results.append(RowResult(index, row, words[index], tuple(findings), self.client.sent - sent))
        return results

    def heading(self, results: Sequence[RowResult]) -> str:
        return (
            f"appcdn verify --stack {self.options.stack}: {len(results)} rows of the behaviour table, "
            f"{self.client.sent} requests to {self.options.edge.describe()} (run marker ?appcdn-verify={self.run}.N)"
        )


def verify_stack(project: Project, compiled: Mapping[str, ZoneRules], options: Options) -> int:
    verifier = Verifier(project, compiled, options)
    results = verifier.check(behaviour_rows(project, compiled))
    if options.as_json:
        print(json.dumps([r.as_json() for r in sorted(results, key=RowResult.order)], indent=2))
    else:
        print(text(results, verifier.heading(results)))
    if verifier.errors and not verifier.answered:
        print(f"appcdn verify: nothing reachable at {options.edge.describe()}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if any(r.verdict == "disagrees" for r in results):
        return EXIT_DISAGREES
    if verifier.errors:
        print(f"appcdn verify: {verifier.errors} requests got no answer", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0
