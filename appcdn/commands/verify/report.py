"""The verify report: per row of the behaviour table, agrees / disagrees / cannot tell and why, the rows with a
safety failure first; as text, or as JSON (one object per row checked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from appcdn.behaviour.table import BehaviourRow
from appcdn.commands.verify.cases import Case
from appcdn.commands.verify.judge import AGREES, CANNOT_TELL, DISAGREES, Finding


@dataclass(frozen=True)
class RowResult:
    index: int
    row: BehaviourRow
    words: str
    """The row's requests as the plan's table shows them (without what earlier rows take)."""
    findings: tuple[Finding, ...]
    sent: int

    @property
    def verdict(self) -> str:
        verdicts = {f.verdict for f in self.findings}
        return DISAGREES if DISAGREES in verdicts else AGREES if AGREES in verdicts else CANNOT_TELL

    @property
    def safety_failure(self) -> bool:
        return any(f.safety_failure for f in self.findings)

    def order(self) -> tuple[int, int]:
        rank = 0 if self.safety_failure else {DISAGREES: 1, CANNOT_TELL: 2, AGREES: 3}[self.verdict]
        return rank, self.index

    def heading(self) -> str:
        row = self.row
        safety = " (safety)" if self.safety_failure else ""
        return (
            f"{self.verdict.upper() if self.verdict == DISAGREES else self.verdict}{safety}: {row.site}/{row.stage} "
            f"{', '.join(row.hosts)} {self.words}: {row.outcome.cache}"
        )

    def shown(self) -> list[Finding]:
        """The findings the text lists: every disagreement; otherwise why it cannot tell, or the first agreement."""
        if self.verdict == DISAGREES:
            return [f for f in self.findings if f.verdict == DISAGREES]
        if self.verdict == CANNOT_TELL:
            return list(self.findings)
        return [f for f in self.findings if f.verdict == CANNOT_TELL] + [
            next(f for f in self.findings if f.verdict == AGREES)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "site": self.row.site,
            "stage": self.row.stage,
            "hosts": list(self.row.hosts),
            "requests": self.row.requests,
            "outcome": asdict(self.row.outcome),
            "verdict": self.verdict,
            "safety_failure": self.safety_failure,
            "sent": self.sent,
            "checks": [
                {
                    "request": f.case.text(),
                    "stands_for": f.case.label,
                    "safety_request": f.case.safety,
                    "verdict": f.verdict,
                    "why": f.why,
                }
                for f in self.findings
            ],
        }


def ordered(results: Sequence[RowResult]) -> list[RowResult]:
    return sorted(results, key=RowResult.order)


def summary(results: Sequence[RowResult]) -> str:
    count = {v: sum(r.verdict == v for r in results) for v in (DISAGREES, AGREES, CANNOT_TELL)}
    safety = sum(r.safety_failure for r in results)
    disagree = "1 row disagrees" if count[DISAGREES] == 1 else f"{count[DISAGREES]} rows disagree"
    return f"{disagree} ({safety} with a safety failure), {count[AGREES]} agree, {count[CANNOT_TELL]} cannot tell"


def text(results: Sequence[RowResult], heading: str) -> str:
    lines = [heading, ""]
    for result in ordered(results):
        lines.append(result.heading())
        by_case: dict[Case, list[str]] = {}
        for finding in result.shown():
            by_case.setdefault(finding.case, []).append(finding.why)
        lines += [f"    {case.label}: {case.text()}: {'; '.join(whys)}" for case, whys in by_case.items()]
    lines += ["", summary(results) + "."]
    return "\n".join(lines)
