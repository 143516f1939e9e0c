"""The rules both shipped stacks deploy pass octorules-cloudflare's linter at their zone's plan, with no error and
no warning: a ruleset Cloudflare rejects fails ``pulumi up`` on every stack (CF309: ``[*]`` on two different
arrays in one expression; unknown functions or fields; plan entitlements). The linter reads the API's form of
the rules, so the planned inputs (the provider's camelCase wire names) are turned back into it first."""

import re
from typing import Any

import octorules_cloudflare  # noqa: F401  (registers the Cloudflare lint plugin)
from octorules.linter.engine import Severity, lint_zone_file

from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import peer_sources, read_stack_file
from appcdn.rules.api_form import to_api
from tests.conftest import ROOT
from tests.test_stacks import planned

PHASES = {"http_request_cache_settings": "cloudflare.cache_rules", "http_config_settings": "cloudflare.config_rules"}


def snake(value: Any) -> Any:
    """The provider's wire names (``actionParameters``) as its input names (``action_parameters``)."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def lint_findings(stack: str) -> tuple[dict[str, str], set[str], list[str]]:
    """The plan of each zone the stack deploys rules on, the stages whose rules it deploys, and every finding of
    the linter at warning or error on them."""
    project = load_project(read_stack_file(ROOT, stack).source(), peer_sources(ROOT, stack))
    plans = {project.zone(name).id: project.zone(name).plan for name in project.zones_in_use()}
    rules: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in planned(stack).values():
        if r.type == "cloudflare:index/ruleset:Ruleset":
            section = PHASES[r.inputs["phase"]]
        elif r.type == "cloudflare:index/cloudConnectorRules:CloudConnectorRules":
            section = "cloudflare.cloud_connector_rules"
        else:
            continue
        rules.setdefault(r.inputs["zoneId"], {}).setdefault(section, []).extend(
            to_api(snake(rule)) for rule in r.inputs["rules"]
        )
    findings = [
        f"{zone}: {result}"
        for zone, data in rules.items()
        for result in lint_zone_file(
            data, zone_name=zone, plan_tier=plans[zone], severity_filter=Severity.WARNING
        ).results
    ]
    stages = {
        name.split("/")[1]
        for sections in rules.values()
        for section in sections.values()
        for rule in section
        for name in rule["description"].removeprefix("appcdn: ").split(", ")
    }
    return {zone: plans[zone] for zone in rules}, stages, findings


def test_the_shipped_stacks_rules_pass_the_linter_with_no_warning() -> None:
    """Live owns the zone, so it deploys the rules of both stacks (Test's included)."""
    plans, stages, findings = lint_findings("live")
    assert plans == {"023e105f4ecef8ad9ca31a8372d0c353": "pro"} and stages == {"live", "test"}
    assert findings == []
